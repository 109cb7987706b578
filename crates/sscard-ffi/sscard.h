/* libsscard: sscard.h */

#ifndef SSCARD_H
#define SSCARD_H

/* The reader interface of the social security card (社会保障卡读写终端接口规范, 2016) as
 * implemented by libsscard. Every function returns 0 on success, else a code of appendix A,
 * with a message in pOutInfo. Strings are GBK or UTF-8 as configured (sscard.conf).
 * Generated from crates/sscard-ffi by cbindgen: do not edit. */
#if defined(_WIN32) && !defined(SSCARD_CALL)
#define SSCARD_CALL __stdcall
#elif !defined(SSCARD_CALL)
#define SSCARD_CALL
#endif


// The PIN callback a host program registers with `iSetPinCallback`.
//
// libsscard calls it with what to ask the holder (`iPrompt`: 1 请输入密码, 2 请输入原密码,
// 3 请输入新密码, 4 请再次输入新密码), a buffer `pPin` of `iPinSize` bytes for the PIN's digits
// (NUL-terminated) and the `pUser` pointer given at registration. It returns 0 when the holder
// entered a PIN, or an appendix A code: -31 (the holder cancelled), -32 (timeout). libsscard
// wipes the buffer afterwards. NULL removes a registered callback.
typedef long (SSCARD_CALL *SscardPinCallback)(int iPrompt, char *pPin, int iPinSize, void *pUser);

#ifdef __cplusplus
extern "C" {
#endif // __cplusplus

// `iReadCardBas` 读基本信息 (§1.1, table 1): internal authentication through the PSAM (and
// external authentication with RKSSSE on 3.0 cards), then `pOutInfo` = 发卡地区行政区划代码|
// 社会保障号码|卡号|卡识别码|姓名|卡复位信息|规范版本|发卡日期|卡有效期|终端机编号|终端设备号|.
//
// # Safety
//
// `pOutInfo` is NULL or a writable buffer of 1024 bytes.
long SSCARD_CALL iReadCardBas(int iType, char *pOutInfo);

// `iReadCardBas_HSM_Step1` 基于加密机的读基本信息（步骤一） (§1.2, table 2): `pOutInfo` =
// 发卡地区行政区划代码|卡复位信息|算法标识|卡识别码|内部认证过程因子|内部认证原始信息|
// 外部认证过程因子|外部认证原始信息| (the last two empty for 1.0 and 2.0 cards). The card stays
// powered for step two.
//
// # Safety
//
// `pOutInfo` is NULL or a writable buffer of 1024 bytes.
long SSCARD_CALL iReadCardBas_HSM_Step1(int iType, char *pOutInfo);

// `iReadCardBas_HSM_Step2` 基于加密机的读基本信息（步骤二） (§1.3, table 3): `pKey` =
// 内部认证结果|外部认证结果| from the HSM; `pOutInfo` as `iReadCardBas`, the terminal number 12
// zeros without a PSAM.
//
// # Safety
//
// `pKey` is NULL or a NUL-terminated string of at most 128 bytes; `pOutInfo` is NULL or a
// writable buffer of 1024 bytes.
long SSCARD_CALL iReadCardBas_HSM_Step2(char *pKey, char *pOutInfo);

// `iReadCard` 通用读卡 (§2.1, table 4): `pCardInfo` checked against the card, then the files and
// items of `pFileAddr` with the PIN (configured source) or the PSAM's RK key as each file's read
// rule and `iAuthType` (1 PIN, 2 RK) say; `pOutInfo` in `pFileAddr`'s shape.
//
// # Safety
//
// `pCardInfo` (128) and `pFileAddr` (1024) are NULL or NUL-terminated strings of at most those
// lengths; `pOutInfo` is NULL or a writable buffer of 20480 bytes.
long SSCARD_CALL iReadCard(int iType, int iAuthType, char *pCardInfo, char *pFileAddr, char *pOutInfo);

// `iReadCard_HSM_Step1` 基于加密机的通用读卡（步骤一） (§2.2, table 5): for the first file of
// `pFileAddr`, `算法标识|密钥地址|过程因子|原始信息|` for the HSM (the PIN first for a file read
// with the PIN and a key); `-2204` for a file free to read or read with the PIN (§2.2.3 note).
//
// # Safety
//
// As [`iReadCard`], `pOutInfo` of 1024 bytes.
long SSCARD_CALL iReadCard_HSM_Step1(int iType, char *pCardInfo, char *pFileAddr, char *pOutInfo);

// `iReadCard_HSM_Step2` 基于加密机的通用读卡（步骤二） (§2.3, table 6): EXTERNAL AUTHENTICATION
// with the HSM's answer, then step one's items in `pFileAddr`'s syntax.
//
// # Safety
//
// `pKey` is NULL or a NUL-terminated string of at most 128 bytes; `pOutInfo` is NULL or a
// writable buffer of 20480 bytes.
long SSCARD_CALL iReadCard_HSM_Step2(char *pKey, char *pOutInfo);

// `iWriteCard` 通用写卡 (§3.1, table 7): `pCardInfo` checked against the card, then `pWriteData`
// (in `pFileAddr`'s shape) written with each file's update key through the PSAM; every value is
// checked before the first write.
//
// # Safety
//
// `pCardInfo` (128), `pFileAddr` (1024) and `pWriteData` (20480) are NULL or NUL-terminated
// strings of at most those lengths; `pOutInfo` is NULL or a writable buffer of 1024 bytes.
long SSCARD_CALL iWriteCard(int iType, char *pCardInfo, char *pFileAddr, char *pWriteData, char *pOutInfo);

// `iWriteCard_HSM_Step1` 基于加密机的通用写卡（步骤一） (§3.2, table 8): for the first file of
// `pFileAddr`, writable with a key, `算法标识|密钥地址|过程因子|原始信息|` for the HSM.
//
// # Safety
//
// As [`iReadCard_HSM_Step1`].
long SSCARD_CALL iWriteCard_HSM_Step1(int iType, char *pCardInfo, char *pFileAddr, char *pOutInfo);

// `iWriteCard_HSM_Step2` 基于加密机的通用写卡（步骤二） (§3.3, table 9): `pWriteData` checked,
// then EXTERNAL AUTHENTICATION with the HSM's answer and the writes.
//
// # Safety
//
// `pKey` (128) and `pWriteData` (20480) are NULL or NUL-terminated strings of at most those
// lengths; `pOutInfo` is NULL or a writable buffer of 1024 bytes.
long SSCARD_CALL iWriteCard_HSM_Step2(char *pKey, char *pWriteData, char *pOutInfo);

// `iVerifyPIN` PIN 校验 (§4.1, table 10): the holder's PIN from the PIN pad or the configured
// source; `-51` with the tries left in `pOutInfo`, `-52` when blocked.
//
// # Safety
//
// `pOutInfo` is NULL or a writable buffer of 512 bytes.
long SSCARD_CALL iVerifyPIN(int iType, char *pOutInfo);

// `iChangePIN` PIN 修改 (§5.1, table 11): current PIN, new PIN twice.
//
// # Safety
//
// `pOutInfo` is NULL or a writable buffer of 512 bytes.
long SSCARD_CALL iChangePIN(int iType, char *pOutInfo);

// `iReloadPIN` PIN 重置 (§6.1, table 12): the card checked against `pCardInfo`, the new PIN
// twice, PIN RELOAD with the PSAM's PUK and STKSSSE.
//
// # Safety
//
// `pCardInfo` is NULL or a NUL-terminated string of at most 128 bytes; `pOutInfo` is NULL or a
// writable buffer of 512 bytes.
long SSCARD_CALL iReloadPIN(int iType, char *pCardInfo, char *pOutInfo);

// `iReloadPIN_HSM_Step1` (§6.2, table 13): `pOutInfo` = 算法标识|0090|过程因子|原始信息|.
//
// # Safety
//
// As [`iReloadPIN`].
long SSCARD_CALL iReloadPIN_HSM_Step1(int iType, char *pCardInfo, char *pOutInfo);

// `iReloadPIN_HSM_Step2` (§6.3, table 14): `pKey` = the HSM's authentication data ‖ original
// data; the new PIN twice; `pOutInfo` = 算法标识|0173|过程因子|命令头|新 PIN| for the HSM.
//
// # Safety
//
// `pKey` is NULL or a NUL-terminated string of at most 128 bytes; `pOutInfo` is NULL or a
// writable buffer of 1024 bytes.
long SSCARD_CALL iReloadPIN_HSM_Step2(char *pKey, char *pOutInfo);

// `iReloadPIN_HSM_Step3` (§6.4, table 15): `pKey` = command header ‖ enciphered PIN ‖ MAC (34
// or 50 hex digits).
//
// # Safety
//
// As [`iReloadPIN_HSM_Step2`].
long SSCARD_CALL iReloadPIN_HSM_Step3(char *pKey, char *pOutInfo);

// `iUnblockPIN` PIN 解锁 (§7.1, table 16): the card checked against `pCardInfo`, PIN UNBLOCK
// with the PSAM's PUK and STKSSSE.
//
// # Safety
//
// As [`iReloadPIN`].
long SSCARD_CALL iUnblockPIN(int iType, char *pCardInfo, char *pOutInfo);

// `iUnblockPIN_HSM_Step1` (§7.2, table 17): `pOutInfo` = 算法标识|0090|过程因子|原始信息|.
//
// # Safety
//
// As [`iReloadPIN`].
long SSCARD_CALL iUnblockPIN_HSM_Step1(int iType, char *pCardInfo, char *pOutInfo);

// `iUnblockPIN_HSM_Step2` (§7.3, table 18): `pOutInfo` = 算法标识|0173|过程因子|8424000004||.
//
// # Safety
//
// As [`iReloadPIN_HSM_Step2`].
long SSCARD_CALL iUnblockPIN_HSM_Step2(char *pKey, char *pOutInfo);

// `iUnblockPIN_HSM_Step3` (§7.4, table 19): `pKey` = command header ‖ MAC (18 hex digits).
//
// # Safety
//
// As [`iReloadPIN_HSM_Step2`].
long SSCARD_CALL iUnblockPIN_HSM_Step3(char *pKey, char *pOutInfo);

// `iDoDebit` 消费交易 (§8.1, table 20): the holder's PIN, the purchase through the PSAM;
// `pPayInfo` = 本次消费总金额|个人账户交易金额和统筹基金支付金额相加的总金额|交易时间|, `pOutInfo` =
// 算法标识|密钥地址|交易金额|交易类型|终端机编号|终端交易序号|交易时间|TAC|.
//
// # Safety
//
// `pCardInfo` (128) and `pPayInfo` (512) are NULL or NUL-terminated strings of at most those
// lengths; `pOutInfo` is NULL or a writable buffer of 512 bytes.
long SSCARD_CALL iDoDebit(int iType, char *pCardInfo, char *pPayInfo, char *pOutInfo);

// `iDoDebit_HSM_Step1` (§8.2, table 21): the holder's PIN, INITIALIZE FOR PURCHASE; `pOutInfo`
// = 算法标识|密钥地址|伪随机数|医疗消费交易序号|交易金额|交易类型|终端机编号|交易时间|. The card stays
// powered for step two.
//
// # Safety
//
// As [`iDoDebit`].
long SSCARD_CALL iDoDebit_HSM_Step1(int iType, char *pCardInfo, char *pPayInfo, char *pOutInfo);

// `iDoDebit_HSM_Step2` (§8.3, table 22): `pKey` = 终端交易序号|交易时间|MAC1| from the HSM;
// `pOutInfo` = MAC2|算法标识|密钥地址|交易金额|交易类型|终端机编号|终端交易序号|交易时间|TAC|.
//
// # Safety
//
// `pKey` is NULL or a NUL-terminated string of at most 128 bytes; `pOutInfo` is NULL or a
// writable buffer of 1024 bytes.
long SSCARD_CALL iDoDebit_HSM_Step2(char *pKey, char *pOutInfo);

// `iReadDebitRecord` 读消费交易记录 (§9.1, table 23): the holder's PIN, the card's purchase
// records `交易序号^终端机编号^交易时间^本次消费总金额^个人账户交易金额和统筹基金支付金额相加的总金额^|`.
//
// # Safety
//
// `pOutInfo` is NULL or a writable buffer of 2048 bytes.
long SSCARD_CALL iReadDebitRecord(int iType, char *pOutInfo);

// libsscard's one function beyond the interface: registers the callback that supplies PINs
// when the reader has no PIN pad (`pin_source = auto` or `callback`), with a pointer handed
// back to it unchanged. A NULL `callback` removes it. Returns 0, or `-14` when called from
// inside the callback.
//
// # Safety
//
// `callback`, while registered, is a function of the [`SscardPinCallback`] type that can be
// called from any thread that calls the interface; `pUser` is whatever it expects.
long SSCARD_CALL iSetPinCallback(SscardPinCallback callback, void *pUser);

#ifdef __cplusplus
}  // extern "C"
#endif  // __cplusplus

#endif  /* SSCARD_H */
