// Reads the social security card, verifies the holder's PIN and lists the purchases of the
// medical account through libsscard, the national reader interface (iReadCardBas, iVerifyPIN,
// iReadDebitRecord), with JNA (Debian: libjna-java).
//
//   javac -cp /usr/share/java/jna.jar -d . examples/java/ReadCard.java
//   java -cp /usr/share/java/jna.jar:. -Djna.library.path=target/release ReadCard
//
// On Windows the interface is __stdcall: extend com.sun.jna.win32.StdCallLibrary instead of
// Library, and StdCallLibrary.StdCallCallback instead of Callback.
import com.sun.jna.Callback;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.NativeLong;
import com.sun.jna.Pointer;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.Charset;

public class ReadCard {
    public interface SSCard extends Library {
        SSCard LIB = Native.load("sscard", SSCard.class);

        NativeLong iReadCardBas(int iType, byte[] pOutInfo);

        NativeLong iVerifyPIN(int iType, byte[] pOutInfo);

        NativeLong iReadDebitRecord(int iType, byte[] pOutInfo);

        // long callback(int iPrompt, char *pPin, int iPinSize, void *pUser)
        interface PinCallback extends Callback {
            NativeLong invoke(int iPrompt, Pointer pPin, int iPinSize, Pointer pUser);
        }

        NativeLong iSetPinCallback(PinCallback callback, Pointer pUser);
    }

    // as configured: `encoding` in sscard.conf (GBK on Windows terminals)
    static final Charset ENCODING = Charset.forName("UTF-8");

    static String text(byte[] out) {
        int n = 0;
        while (n < out.length && out[n] != 0) n++;
        return new String(out, 0, n, ENCODING);
    }

    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        SSCard.PinCallback askPin = (prompt, pin, size, user) -> {
            try {
                System.err.print(prompt == 1 ? "请输入密码: " : "PIN: ");
                String digits = in.readLine();
                if (digits == null || digits.isEmpty() || digits.length() >= size) return new NativeLong(-31);
                pin.setString(0, digits, "US-ASCII");
                return new NativeLong(0);
            } catch (Exception e) {
                return new NativeLong(-31); // 用户取消密码输入
            }
        };
        SSCard.LIB.iSetPinCallback(askPin, null);

        byte[] out = new byte[1024]; // the interface's pOutInfo size for iReadCardBas
        long rc = SSCard.LIB.iReadCardBas(1, out).longValue(); // 1: the contact card
        System.out.println("iReadCardBas: " + rc + " " + text(out));
        if (rc == 0) {
            rc = SSCard.LIB.iVerifyPIN(1, out).longValue();
            System.out.println("iVerifyPIN: " + rc + " " + text(out));
        }
        if (rc == 0) {
            byte[] records = new byte[2048]; // iReadDebitRecord's pOutInfo (§9.1)
            rc = SSCard.LIB.iReadDebitRecord(1, records).longValue(); // asks for the PIN again
            System.out.println("iReadDebitRecord: " + rc + " " + text(records));
        }
        System.exit(rc == 0 ? 0 : 1);
    }
}
