/*
 * replay: runs a fuzz target's LLVMFuzzerTestOneInput over every file of the
 * given corpus directories, without libFuzzer, so `make check` replays the
 * committed corpora under gcc with AddressSanitizer and UBSan. A crash or a
 * sanitizer report fails the run; otherwise each input counts as passed.
 * Ends with "N passed, N failed".
 */
#define _DEFAULT_SOURCE
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
replay_file(const char *path, unsigned *passed)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf;
	long n;

	if (f == NULL)
		return -1;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
		fclose(f);
		return -1;
	}
	buf = malloc((size_t)n + 1);
	if (buf == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		fclose(f);
		return -1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, (size_t)n);
	free(buf);
	(*passed)++;
	return 0;
}

int
main(int argc, char **argv)
{
	unsigned passed = 0, failed = 0;
	char path[4096];
	struct dirent *e;
	struct stat st;
	DIR *d;
	int i;

	for (i = 1; i < argc; i++) {
		d = opendir(argv[i]);
		if (d == NULL) {
			fprintf(stderr, "replay: cannot open %s\n", argv[i]);
			failed++;
			continue;
		}
		while ((e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", argv[i], e->d_name);
			if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
				continue;
			if (replay_file(path, &passed) != 0) {
				fprintf(stderr, "replay: cannot read %s\n", path);
				failed++;
			}
		}
		closedir(d);
	}
	printf("%u passed, %u failed\n", passed, failed);
	return failed == 0 ? 0 : 1;
}
