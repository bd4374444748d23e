/* status: every status has a distinct wire code that maps back to it. */
#include "harness.h"
#include "status.h"

void
suite_status(void)
{
	int i, j;

	for (i = 0; i < TL_STATUS_COUNT; i++) {
		CHECK(status_from_code(status_code((enum tl_status)i)) == i);
		for (j = i + 1; j < TL_STATUS_COUNT; j++)
			CHECK(strcmp(status_code((enum tl_status)i),
			    status_code((enum tl_status)j)) != 0);
	}
	CHECK_STR(status_code(TL_TOO_LARGE), "too_large");
	CHECK_STR(status_code(TL_FORBIDDEN_ORIGIN), "forbidden_origin");
	CHECK_STR(status_code((enum tl_status)999), "internal");
	CHECK(status_from_code("no_such_code") == -1);
	CHECK(status_from_code(NULL) == -1);
}
