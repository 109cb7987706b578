/* Reads the social security card with the national reader interface (iReadCardBas) through
 * libsscard, the way any terminal program does with its vendor library.
 *
 *   cargo build --release -p sscard-ffi
 *   cc examples/c/read_card.c -Icrates/sscard-ffi -Ltarget/release -lsscard -o read_card
 *   LD_LIBRARY_PATH=target/release ./read_card
 *
 * Which reader holds the card and which the PSAM: sscard.conf or SSCARD_CONTACT_READER /
 * SSCARD_PSAM_READER (docs/reader-interface.md). Without a PSAM, iReadCardBas answers -2201 and
 * a terminal goes on with iReadCardBas_HSM_Step1/2 and its HSM (appendix C.1). */
#include <stdio.h>

#include "sscard.h"

int main(void)
{
    char out[1024];
    long rc = iReadCardBas(1, out); /* 1: the contact card */
    if (rc != 0) {
        fprintf(stderr, "iReadCardBas: %ld %s\n", rc, out);
        return 1;
    }
    /* 发卡地区|社会保障号码|卡号|卡识别码|姓名|卡复位信息|规范版本|发卡日期|卡有效期|终端机编号|终端设备号| */
    printf("%s\n", out);
    return 0;
}
