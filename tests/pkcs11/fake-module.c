/*
 * A PKCS#11 module that misbehaves the way some vendor modules do: it
 * writes to stdout when it is loaded (constructor) and again in
 * C_Initialize, and it has no slot. Built by tests/pkcs11/run.mjs; used to
 * prove that a module printing cannot corrupt a native-messaging session.
 * The marker lets the test see where the bytes went (stderr) and that the
 * module really was loaded, only when a token request came.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <pkcs11-helper-1.0/pkcs11.h>

#define MARKER "FAKE-PKCS11-MODULE-WROTE-THIS-TO-STDOUT\n"

__attribute__((constructor)) static void
noisy_load(void)
{
	ssize_t w;

	/* Both ways a library can reach fd 1: stdio and write(2). */
	fputs("ctor:" MARKER, stdout);
	fflush(stdout);
	w = write(1, "raw:" MARKER, strlen("raw:" MARKER));
	(void)w;
}

static CK_RV
fake_initialize(void *args)
{
	(void)args;
	fputs("init:" MARKER, stdout);
	fflush(stdout);
	return CKR_OK;
}

static CK_RV
fake_finalize(void *reserved)
{
	(void)reserved;
	return CKR_OK;
}

static CK_RV
fake_get_info(CK_INFO_PTR info)
{
	memset(info, 0, sizeof(*info));
	info->cryptokiVersion.major = 2;
	info->cryptokiVersion.minor = 20;
	memset(info->manufacturerID, ' ', sizeof(info->manufacturerID));
	memcpy(info->manufacturerID, "TrustLens fake", 14);
	memset(info->libraryDescription, ' ', sizeof(info->libraryDescription));
	memcpy(info->libraryDescription, "noisy test module", 17);
	return CKR_OK;
}

static CK_RV
fake_get_slot_list(unsigned char present, CK_SLOT_ID_PTR list, CK_ULONG_PTR count)
{
	(void)present;
	(void)list;
	*count = 0;
	return CKR_OK;
}

static CK_FUNCTION_LIST fake_list;

CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR out);

CK_RV
C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR out)
{
	fake_list.version.major = 2;
	fake_list.version.minor = 20;
	fake_list.C_Initialize = fake_initialize;
	fake_list.C_Finalize = fake_finalize;
	fake_list.C_GetInfo = fake_get_info;
	fake_list.C_GetFunctionList = C_GetFunctionList;
	fake_list.C_GetSlotList = fake_get_slot_list;
	*out = &fake_list;
	return CKR_OK;
}
