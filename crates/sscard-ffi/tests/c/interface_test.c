/* Calls every function of libsscard, the success paths and the failure paths (no card, wrong
 * PIN, blocked PIN, blocked card, no PSAM, wrong algorithm, malformed parameters, HSM steps out
 * of order, concurrent callers), against the simulated card and PSAM in a private pcscd.
 *
 * Run by crates/sscard-ffi/tests/through_pcscd.rs, which plays the HSM and the person at the
 * card slot over this program's standard input and output:
 *   "HSM <request>"  the harness answers the HSM's answer (computed with the test keys);
 *   "STEP <action>"  the harness removes / inserts / swaps a card or changes the configuration
 *                    and answers "done";
 *   "LINE <name> <text>" a result the harness compares with `sscard read`;
 *   "ok - …" / "not ok - …", and at the end "N passed, M failed".
 * The PINs come from the callback registered with iSetPinCallback (pin_source = callback). */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sscard.h"

static int passed, failed;

static void check(int cond, const char *what, long rc, const char *out)
{
    printf("%s - %s (rc %ld: %s)\n", cond ? "ok" : "not ok", what, rc, out ? out : "");
    fflush(stdout);
    if (cond)
        passed++;
    else
        failed++;
}

/* Expects `rc` to be `want`. */
static void expect(long rc, long want, const char *what, const char *out)
{
    char text[256];
    snprintf(text, sizeof text, "%s -> %ld", what, want);
    check(rc == want, text, rc, out);
}

static void read_reply(char *buf, size_t n)
{
    if (!fgets(buf, (int)n, stdin)) {
        fprintf(stderr, "the harness went away\n");
        exit(2);
    }
    buf[strcspn(buf, "\r\n")] = 0;
}

static void step(const char *action)
{
    char reply[64];
    printf("STEP %s\n", action);
    fflush(stdout);
    read_reply(reply, sizeof reply);
}

static void hsm(const char *request, char *answer, size_t n)
{
    printf("HSM %s\n", request);
    fflush(stdout);
    read_reply(answer, n);
}

/* ---- the PIN callback: answers the PINs queued by pins(), "CANCEL" cancels, "REENTER" calls
 * back into the library (which must refuse) ---- */
static const char *queue[8];
static int queued, next_pin;
static long reentered_rc = 1;

static void pins(int n, ...)
{
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n; i++)
        queue[i] = va_arg(ap, const char *);
    va_end(ap);
    queued = n;
    next_pin = 0;
}

static long SSCARD_CALL pin_callback(int iPrompt, char *pPin, int iPinSize, void *pUser)
{
    int *calls = pUser;
    (*calls)++;
    if (iPrompt < 1 || iPrompt > 4 || next_pin >= queued)
        return -31;
    const char *pin = queue[next_pin++];
    if (strcmp(pin, "CANCEL") == 0)
        return -31;
    if (strcmp(pin, "REENTER") == 0) {
        char inner[512];
        reentered_rc = iVerifyPIN(1, inner);
        return -31;
    }
    snprintf(pPin, (size_t)iPinSize, "%s", pin);
    return 0;
}

/* field `i` (from 0) of a |-separated line */
static void field(const char *line, int i, char *out, size_t n)
{
    const char *p = line;
    for (; i > 0 && p; i--) {
        p = strchr(p, '|');
        if (p)
            p++;
    }
    size_t len = p ? strcspn(p, "|") : 0;
    if (len >= n)
        len = n - 1;
    memcpy(out, p ? p : "", len);
    out[len] = 0;
}

/* The HSM read of appendix C.1: step one, the HSM, step two. `corrupt` flips the first digit
 * of the HSM's internal authentication data (a card that is not genuine, or a wrong HSM). */
static long hsm_read(char *out, int corrupt, int without_external)
{
    char request[1024], answer[256];
    long rc = iReadCardBas_HSM_Step1(1, request);
    expect(rc, 0, "iReadCardBas_HSM_Step1", request);
    if (rc != 0)
        return rc;
    hsm(request, answer, sizeof answer);
    if (corrupt)
        answer[0] = answer[0] == '0' ? '1' : '0';
    if (without_external) {
        char *bar = strchr(answer, '|');
        if (bar)
            strcpy(bar, "||");
    }
    return iReadCardBas_HSM_Step2(answer, out);
}

struct worker {
    const char *expected;
    int ok;
};

static void *read_in_thread(void *arg)
{
    struct worker *w = arg;
    char out[1024];
    for (int i = 0; i < 5; i++)
        if (iReadCardBas(1, out) == 0 && strcmp(out, w->expected) == 0)
            w->ok++;
    return NULL;
}

int main(void)
{
    char out[20480], line[1024], card_info[128], request[1024], answer[256];
    int calls = 0;
    long rc;

    expect(iSetPinCallback(pin_callback, &calls), 0, "iSetPinCallback", "");

    /* ---- iReadCardBas with the PSAM ---- */
    rc = iReadCardBas(1, line);
    expect(rc, 0, "iReadCardBas (contact card, PSAM)", line);
    printf("LINE psam %s\n", line);
    char id[64], number[16];
    field(line, 3, id, sizeof id);
    field(line, 2, number, sizeof number);
    snprintf(card_info, sizeof card_info, "%s|%s|", id, number);
    rc = iReadCardBas(3, out);
    check(rc == 0 && strcmp(out, line) == 0, "iReadCardBas iType 3 finds the contact card", rc, out);
    expect(iReadCardBas(2, out), -11, "iReadCardBas iType 2 without a contactless reader", out);
    expect(iReadCardBas(0, out), -1, "iReadCardBas iType 0", out);
    expect(iReadCardBas(5, out), -1, "iReadCardBas iType 5", out);
    expect(iReadCardBas(1, NULL), -14, "iReadCardBas with pOutInfo NULL", "");

    /* ---- iVerifyPIN / iChangePIN (the initial PIN 123456) ---- */
    pins(1, "123456");
    expect(iVerifyPIN(1, out), 0, "iVerifyPIN right PIN", out);
    pins(1, "000000");
    rc = iVerifyPIN(1, out);
    check(rc == -51 && strstr(out, "剩余次数 2 次") != NULL, "iVerifyPIN wrong PIN -> -51, 2 tries left", rc, out);
    pins(1, "12");
    expect(iVerifyPIN(1, out), -33, "iVerifyPIN 2 digits", out);
    pins(1, "CANCEL");
    expect(iVerifyPIN(1, out), -31, "iVerifyPIN cancelled", out);
    pins(1, "REENTER");
    expect(iVerifyPIN(1, out), -31, "iVerifyPIN whose callback calls the library", out);
    expect(reentered_rc, -14, "a call from inside the PIN callback is refused", "");
    pins(3, "123456", "258036", "258037");
    expect(iChangePIN(1, out), -34, "iChangePIN two different new PINs", out);
    pins(3, "123456", "258036", "258036");
    expect(iChangePIN(1, out), 0, "iChangePIN", out);
    pins(1, "258036");
    expect(iVerifyPIN(1, out), 0, "iVerifyPIN the new PIN", out);

    /* ---- the PIN blocked, unblocked and reloaded with the PSAM ---- */
    pins(1, "111111");
    rc = iVerifyPIN(1, out);
    check(rc == -51 && strstr(out, "剩余次数 2 次"), "wrong PIN 1 -> -51, 2 left", rc, out);
    pins(1, "111111");
    rc = iVerifyPIN(1, out);
    check(rc == -51 && strstr(out, "剩余次数 1 次"), "wrong PIN 2 -> -51, 1 left", rc, out);
    pins(1, "111111");
    expect(iVerifyPIN(1, out), -52, "wrong PIN 3: blocked", out);
    pins(1, "258036");
    expect(iVerifyPIN(1, out), -52, "the right PIN on a blocked PIN", out);
    expect(iUnblockPIN(1, "xyz", out), -14, "iUnblockPIN malformed pCardInfo", out);
    {
        char other[128];
        snprintf(other, sizeof other, "%s|X00000019|", id);
        expect(iUnblockPIN(1, other, out), -22, "iUnblockPIN another card's number", out);
    }
    expect(iUnblockPIN(1, card_info, out), 0, "iUnblockPIN (PSAM)", out);
    pins(1, "258036");
    expect(iVerifyPIN(1, out), 0, "iVerifyPIN after the unblock", out);
    pins(2, "654321", "654321");
    expect(iReloadPIN(1, card_info, out), 0, "iReloadPIN (PSAM)", out);
    pins(1, "654321");
    expect(iVerifyPIN(1, out), 0, "iVerifyPIN the reloaded PIN", out);

    /* ---- PIN reload and unblock through the HSM ---- */
    expect(iReloadPIN_HSM_Step2("50C45431554CBADC1B0D7286F2DC77AF", out), -12, "iReloadPIN_HSM_Step2 without step 1", out);
    expect(iReloadPIN_HSM_Step3("8424000114", out), -12, "iReloadPIN_HSM_Step3 without step 2", out);
    expect(iReloadPIN_HSM_Step1(1, "1234|KD5578904|", out), -20, "iReloadPIN_HSM_Step1 malformed card id", out);
    expect(iReloadPIN_HSM_Step1(1, card_info, request), 0, "iReloadPIN_HSM_Step1", request);
    expect(iReloadPIN_HSM_Step2("ZZC45431554CBADC1B0D7286F2DC77AF", out), -41, "iReloadPIN_HSM_Step2 non-hex pKey", out);
    expect(iReloadPIN_HSM_Step1(1, card_info, request), 0, "iReloadPIN_HSM_Step1 again", request);
    check(strncmp(request, "03|0090|", 8) == 0, "step 1 asks for PUK (0090)", 0, request);
    hsm(request, answer, sizeof answer);
    expect(iUnblockPIN_HSM_Step2(answer, out), -12, "iUnblockPIN_HSM_Step2 after a reload's step 1", out);
    expect(iReloadPIN_HSM_Step1(1, card_info, request), 0, "iReloadPIN_HSM_Step1 once more", request);
    hsm(request, answer, sizeof answer);
    expect(iReloadPIN_HSM_Step2("50C4", out), -42, "iReloadPIN_HSM_Step2 short pKey", out);
    expect(iReloadPIN_HSM_Step1(1, card_info, request), 0, "iReloadPIN_HSM_Step1 for good", request);
    hsm(request, answer, sizeof answer);
    pins(2, "135790", "135790");
    expect(iReloadPIN_HSM_Step2(answer, request), 0, "iReloadPIN_HSM_Step2", "(the request carries the new PIN)");
    check(strncmp(request, "03|0173|", 8) == 0 && strstr(request, "|8424000114|135790|") != NULL,
          "step 2 asks STKSSSE (0173) to secure 8424000114 with the new PIN", 0, "");
    hsm(request, answer, sizeof answer);
    expect(iReloadPIN_HSM_Step3(answer, out), 0, "iReloadPIN_HSM_Step3", out);
    pins(1, "135790");
    expect(iVerifyPIN(1, out), 0, "iVerifyPIN the PIN reloaded through the HSM", out);
    for (int i = 0; i < 3; i++) {
        pins(1, "999999");
        iVerifyPIN(1, out);
    }
    pins(1, "135790");
    expect(iVerifyPIN(1, out), -52, "blocked again", out);
    expect(iUnblockPIN_HSM_Step1(1, card_info, request), 0, "iUnblockPIN_HSM_Step1", request);
    hsm(request, answer, sizeof answer);
    expect(iUnblockPIN_HSM_Step2(answer, request), 0, "iUnblockPIN_HSM_Step2", request);
    check(strstr(request, "|8424000004||") != NULL, "unblock step 2: header 8424000004, no plaintext", 0, request);
    hsm(request, answer, sizeof answer);
    expect(iUnblockPIN_HSM_Step3(answer, out), 0, "iUnblockPIN_HSM_Step3", out);
    pins(1, "135790");
    expect(iVerifyPIN(1, out), 0, "iVerifyPIN after the HSM unblock", out);

    /* ---- no PSAM: -2201, then the HSM read of appendix C.1 ---- */
    step("remove-psam");
    expect(iReadCardBas(1, out), -2201, "iReadCardBas without the PSAM", out);
    expect(iReloadPIN(1, card_info, out), -2201, "iReloadPIN without the PSAM", out);
    expect(iReadCardBas_HSM_Step2("F4A0CF965BDCEA30DBF7A936D0D18C9E||", out), -12, "iReadCardBas_HSM_Step2 without step 1", out);
    expect(hsm_read(out, 1, 0), -21, "iReadCardBas_HSM_Step2 with a wrong internal authentication answer", out);
    rc = hsm_read(out, 0, 0);
    expect(rc, 0, "iReadCardBas_HSM_Step2", out);
    printf("LINE hsm %s\n", out);
    step("insert-psam");

    /* ---- a 3.0 3DES card with an SM4 PSAM: -2202, then the HSM with RKSSSE ---- */
    step("card-v3");
    expect(iReadCardBas(1, out), -2202, "iReadCardBas: the PSAM lacks the card's algorithm", out);
    expect(hsm_read(out, 0, 1), -14, "iReadCardBas_HSM_Step2 without the RKSSSE answer (3.0 card)", out);
    rc = hsm_read(out, 0, 0);
    check(rc == 0 && strstr(out, "|3.00|") != NULL, "iReadCardBas_HSM_Step2 on a 3.0 card (external authentication with RKSSSE)", rc, out);
    printf("LINE hsm-v3 %s\n", out);
    step("card-v2");

    /* ---- no card, blocked card ---- */
    step("remove-card");
    expect(iReadCardBas(1, out), -2, "iReadCardBas without a card", out);
    pins(1, "135790");
    expect(iVerifyPIN(1, out), -2, "iVerifyPIN without a card", out);
    expect(iReadCardBas_HSM_Step1(1, out), -2, "iReadCardBas_HSM_Step1 without a card", out);
    step("insert-card");
    step("card-blocked");
    expect(iReadCardBas(1, out), -37635, "iReadCardBas on a permanently blocked card (9303)", out);
    pins(1, "123456");
    expect(iVerifyPIN(1, out), -37635, "iVerifyPIN on a permanently blocked card", out);
    step("card-v2");

    /* ---- iReadCard / iWriteCard over the file-address syntax ---- */
    {
        char want[256];
        snprintf(want, sizeof want, "SSSEEF05|%s|$SSSEEF06|张三|$", number);
        rc = iReadCard(1, 1, card_info, "SSSEEF05|07|$SSSEEF06|09|$", out);
        check(rc == 0 && strcmp(out, want) == 0, "iReadCard SSSEEF05|07|$SSSEEF06|09|$ (free to read)", rc, out);
    }
    rc = iWriteCard(1, card_info, "DF01EF07|29|$", "DF01EF07|1|$", out);
    expect(rc, 0, "iWriteCard DF01EF07|29|$ (UK through the PSAM)", out);
    pins(1, "135790");
    rc = iReadCard(1, 1, card_info, "DF01EF07|29|$", out);
    check(rc == 0 && strcmp(out, "DF01EF07|1|$") == 0, "iReadCard DF01EF07|29|$ reads it back", rc, out);
    expect(iReadCard(1, 1, card_info, "DF01EF0A|37|", out), -14, "iReadCard malformed pFileAddr", out);
    expect(iReadCard(1, 1, card_info, "DF01EFEE|37|$", out), -14, "iReadCard a file the card has not", out);
    expect(iReadCard(1, 1, NULL, "DF01EF0A|37|$", out), -14, "iReadCard NULL pCardInfo", out);
    {
        char other[128];
        snprintf(other, sizeof other, "%s|X00000019|", id);
        expect(iReadCard(1, 1, other, "SSSEEF05|07|$", out), -22, "iReadCard another card's pCardInfo", out);
    }
    expect(iReadCard_HSM_Step1(1, card_info, "SSSEEF05|07|$", out), -2204, "iReadCard_HSM_Step1 on a free file: no HSM needed", out);
    expect(iReadCard_HSM_Step2("00112233445566778899AABBCCDDEEFF", out), -12, "iReadCard_HSM_Step2 without step 1", out);
    expect(iWriteCard_HSM_Step2("00112233445566778899AABBCCDDEEFF", "DF01EF08|2|$", out), -12, "iWriteCard_HSM_Step2 without step 1", out);
    /* ---- the data areas through the HSM (§2.2-2.3, §3.2-3.3) ---- */
    expect(iWriteCard_HSM_Step1(1, card_info, "DF04EF08|$", out), -27010, "iWriteCard_HSM_Step1 the card OS's own file", out);
    expect(iWriteCard_HSM_Step1(1, card_info, "DF01EF08|2B|$", request), 0, "iWriteCard_HSM_Step1 DF01EF08|2B|$", request);
    check(strncmp(request + 2, "|0176|", 6) == 0 || strncmp(request + 2, "|0175|", 6) == 0 || strncmp(request + 2, "|0174|", 6) == 0,
          "iWriteCard_HSM_Step1 asks for UKDF01 (appendix B)", 0, request);
    hsm(request, answer, sizeof answer);
    expect(iWriteCard_HSM_Step2(answer, "DF01EF08|X|$", out), -23, "iWriteCard_HSM_Step2 a value outside the code table", out);
    expect(iWriteCard_HSM_Step1(1, card_info, "DF01EF08|2B|$", request), 0, "iWriteCard_HSM_Step1 again", request);
    hsm(request, answer, sizeof answer);
    expect(iWriteCard_HSM_Step2(answer, "DF01EF08|2|$", out), 0, "iWriteCard_HSM_Step2 DF01EF08|2|$", out);
    expect(iReadCard_HSM_Step1(1, card_info, "DF01EF08|2B|$", request), 0, "iReadCard_HSM_Step1 DF01EF08|2B|$ (RK)", request);
    hsm(request, answer, sizeof answer);
    answer[0] = answer[0] == '0' ? '1' : '0';
    rc = iReadCard_HSM_Step2(answer, out);
    check(rc <= -0x63C0 && rc >= -0x63CF, "iReadCard_HSM_Step2 with a wrong HSM answer: the card's 63Cx", rc, out);
    expect(iReadCard_HSM_Step1(1, card_info, "DF01EF08|2B|$", request), 0, "iReadCard_HSM_Step1 once more", request);
    hsm(request, answer, sizeof answer);
    rc = iReadCard_HSM_Step2(answer, out);
    check(rc == 0 && strcmp(out, "DF01EF08|2|$") == 0, "iReadCard_HSM_Step2 reads what the HSM write wrote", rc, out);
    pins(1, "135790");
    expect(iReadCard_HSM_Step1(1, card_info, "DF04EF06|90|$", request), 0, "iReadCard_HSM_Step1 DF04EF06 (PIN and RK)", request);
    hsm(request, answer, sizeof answer);
    rc = iReadCard_HSM_Step2(answer, out);
    check(rc == 0 && strcmp(out, "DF04EF06||$") == 0, "iReadCard_HSM_Step2 DF04EF06|90|$", rc, out);
    expect(iWriteCard(1, card_info, "DF01EF07|29|$", "DF01EF07|1|2|$", out), -14, "iWriteCard pWriteData unlike pFileAddr", out);
    expect(iWriteCard(1, card_info, "DF04EF08|$", "DF04EF08|1^2^3^|$", out), -27010, "iWriteCard the card OS's own file", out);
    /* ---- the medical account (§8-9): the two amounts of pPayInfo are the card's self-pay and
     * pooled amounts, the account amount 0 ([design] D36) ---- */
    expect(iDoDebit(1, card_info, "12.3|10.00|20261123101500|", out), -23, "iDoDebit malformed amount", out);
    expect(iDoDebit(1, card_info, "12.30|10.00|", out), -14, "iDoDebit pPayInfo without the time", out);
    expect(iDoDebit_HSM_Step2("00000001|20261123101500|11223344|", out), -12, "iDoDebit_HSM_Step2 without step 1", out);
    {
        char other[128];
        snprintf(other, sizeof other, "%s|X00000019|", id);
        expect(iDoDebit(1, other, "12.30|10.00|20261123101500|", out), -22, "iDoDebit another card's pCardInfo", out);
    }
    pins(1, "000000");
    rc = iDoDebit(1, card_info, "12.30|10.00|20261123101500|", out);
    check(rc == -51, "iDoDebit with a wrong PIN: -51, nothing paid", rc, out);
    pins(1, "135790");
    rc = iReadDebitRecord(1, out);
    check(rc == 0 && out[0] == 0, "iReadDebitRecord: no purchase yet", rc, out);
    pins(1, "135790");
    rc = iDoDebit(1, card_info, "12.30|10.00|20261123101500|", out);
    check(rc == 0 && strncmp(out, "03|00B5|000004CE000003E8|02|", 28) == 0 && strstr(out, "|00000000|20261123101500|") != NULL,
          "iDoDebit (PSAM): 算法标识|密钥地址|交易金额|交易类型|终端机编号|终端交易序号|交易时间|TAC|", rc, out);
    printf("LINE debit %s\n", out);
    pins(1, "135790");
    expect(iDoDebit_HSM_Step1(1, card_info, "1.00|2.00|20261123101600|", request), 0, "iDoDebit_HSM_Step1", request);
    check(strncmp(request, "03|017F|", 8) == 0 && strstr(request, "|0001|00000064000000C8|02|000000000000|20261123101600|") != NULL,
          "iDoDebit_HSM_Step1: 算法标识|DPK 017F|伪随机数|医疗消费交易序号|交易金额|交易类型|终端机编号|交易时间|", 0, request);
    expect(iDoDebit_HSM_Step2("0000002A|20261123101600|GG|", out), -14, "iDoDebit_HSM_Step2 malformed pKey", out);
    expect(iDoDebit_HSM_Step2("0000002A|20261123101600|11223344|", out), -12, "iDoDebit_HSM_Step2 after a failed step 2", out);
    pins(1, "135790");
    expect(iDoDebit_HSM_Step1(1, card_info, "1.00|2.00|20261123101600|", request), 0, "iDoDebit_HSM_Step1 again", request);
    hsm(request, answer, sizeof answer);
    rc = iDoDebit_HSM_Step2(answer, out);
    check(rc == 0 && strlen(out) > 9 && strncmp(out + 8, "|03|00B5|00000064000000C8|02|000000000000|0000002A|20261123101600|", 66) == 0,
          "iDoDebit_HSM_Step2: MAC2|算法标识|密钥地址|交易金额|交易类型|终端机编号|终端交易序号|交易时间|TAC|", rc, out);
    printf("LINE debit-hsm %s\n", out);
    pins(1, "135790");
    rc = iReadDebitRecord(1, out);
    check(rc == 0 && strncmp(out, "1^000000000000^20261123101600^1.00^2.00^|0^", 43) == 0 && strstr(out, "^20261123101500^12.30^10.00^|") != NULL,
          "iReadDebitRecord: both purchases, newest first", rc, out);
    pins(1, "000000");
    rc = iReadDebitRecord(1, out);
    check(rc == -51, "iReadDebitRecord with a wrong PIN: -51", rc, out);
    pins(1, "135790");
    expect(iVerifyPIN(1, out), 0, "the right PIN again", out);

    /* ---- a pKey longer than the interface allows ---- */
    {
        char longkey[400];
        memset(longkey, 'A', sizeof longkey - 1);
        longkey[sizeof longkey - 1] = 0;
        expect(iReadCardBas_HSM_Step2(longkey, out), -14, "a 399-character pKey", out);
    }

    /* ---- four threads at once: serialized, every read whole ---- */
    {
        pthread_t threads[4];
        struct worker workers[4];
        for (int i = 0; i < 4; i++) {
            workers[i].expected = line;
            workers[i].ok = 0;
            pthread_create(&threads[i], NULL, read_in_thread, &workers[i]);
        }
        int ok = 0;
        for (int i = 0; i < 4; i++) {
            pthread_join(threads[i], NULL);
            ok += workers[i].ok;
        }
        char n[32];
        snprintf(n, sizeof n, "%d of 20", ok);
        check(ok == 20, "4 threads x 5 iReadCardBas give the same line", 0, n);
    }

    /* ---- GBK output ---- */
    step("config encoding=gbk");
    rc = iReadCardBas(1, out);
    check(rc == 0 && strstr(out, "\xD5\xC5\xC8\xFD") != NULL, "iReadCardBas in GBK (张三 = D5C5 C8FD)", rc, "");
    step("config encoding=utf-8");

    /* ---- PIN sources: auto asks the reader for secure PIN entry (the virtual reader has no
     * PIN pad) and falls back to the callback; pinpad alone cannot serve ---- */
    step("config pin_source=auto");
    pins(1, "135790");
    expect(iVerifyPIN(1, out), 0, "iVerifyPIN, pin_source auto: no PIN pad, the callback", out);
    step("config pin_source=pinpad");
    expect(iVerifyPIN(1, out), -5, "iVerifyPIN, pin_source pinpad on a reader without one", out);
    expect(iChangePIN(1, out), -5, "iChangePIN, pin_source pinpad on a reader without one", out);
    step("config pin_source=callback");
    step("config pin_sorce=callback");
    expect(iReadCardBas(1, out), -5, "a misspelt configuration key", out);
    check(strstr(out, "pin_sorce") != NULL, "the message names it", 0, out);

    check(calls > 0, "the PIN callback was called", calls, "");
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
