/* iVerifyPIN with pin_source = prompt: libsscard asks on the controlling terminal (no echo).
 * Run by tests/through_pcscd.rs under `script`, which gives it a terminal. */
#include <stdio.h>

#include "sscard.h"

int main(void)
{
    char out[512];
    long rc = iVerifyPIN(1, out);
    printf("iVerifyPIN: %ld %s\n", rc, out);
    return rc == 0 ? 0 : 1;
}
