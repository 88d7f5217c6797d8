package io.hayloft.cli.bench;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Set;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The load generator's S3 client: PUT and GET of objects over HTTP/1.1, one kept-alive socket
 * per thread, signed with Signature V4 in the Authorization header (payload unsigned, as SDKs
 * send it over TLS). It does only what {@code hayloft bench} needs, so that the generator costs a
 * few microseconds of CPU per request where the AWS SDK costs about a millisecond, and the
 * figures measure the server rather than the client on a shared machine.
 *
 * <p>Keys must be plain ASCII without characters that need URL encoding (the bench's keys are).
 * Each signature is computed for each request: the gateway verifies every one.
 */
final class PlainS3 implements AutoCloseable {
    private static final DateTimeFormatter AMZ_DATE = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'");
    private static final String UNSIGNED = "UNSIGNED-PAYLOAD";
    private static final String SIGNED_HEADERS = "host;x-amz-content-sha256;x-amz-date";
    private static final Set<Integer> PUT_OK = Set.of(200, 201, 204);
    private static final Set<Integer> GET_OK = Set.of(200);

    private final String host;
    private final int port;
    private final String hostHeader;
    private final String accessKey;
    private final String secretKey;
    private final String region;
    private final ThreadLocal<Connection> connections = new ThreadLocal<>();
    private final Set<Connection> all = java.util.concurrent.ConcurrentHashMap.newKeySet();

    PlainS3(URI endpoint, String accessKey, String secretKey, String region) {
        if (!"http".equals(endpoint.getScheme())) {
            throw new IllegalArgumentException("the plain client speaks http:// only, not " + endpoint);
        }
        this.host = endpoint.getHost();
        this.port = endpoint.getPort() < 0 ? 80 : endpoint.getPort();
        this.hostHeader = endpoint.getPort() < 0 ? host : host + ":" + port;
        this.accessKey = accessKey;
        this.secretKey = secretKey;
        this.region = region;
    }

    /**
     * Stores the object; throws unless the answer is 200, S3's, or 201 or 204, which a plain HTTP
     * store taking PUTs gives (nginx's WebDAV module, measured beside Hayloft for scale: see
     * scripts/bench-against-nginx.sh).
     */
    void put(String bucket, String key, byte[] body) throws IOException {
        Connection c = connection();
        c.send("PUT", "/" + bucket + "/" + key, body);
        c.expect(PUT_OK);
    }

    /** Reads the object; returns its length; throws unless the answer is 200. */
    long get(String bucket, String key) throws IOException {
        Connection c = connection();
        c.send("GET", "/" + bucket + "/" + key, null);
        return c.expect(GET_OK);
    }

    private Connection connection() throws IOException {
        Connection c = connections.get();
        if (c == null || c.closed) {
            c = new Connection();
            connections.set(c);
            all.add(c);
        }
        return c;
    }

    @Override
    public void close() {
        all.forEach(Connection::close);
    }

    /** One socket, one request at a time. */
    private final class Connection {
        private final Socket socket = new Socket();
        private final OutputStream out;
        private final InputStream in;
        private final MessageDigest sha256;
        private final Mac hmac;
        private final byte[] skip = new byte[64 << 10];
        private String keyDate = "";
        private byte[] signingKey;
        private boolean closed;

        Connection() throws IOException {
            socket.setTcpNoDelay(true);
            socket.setSoTimeout(120_000);
            socket.connect(new InetSocketAddress(host, port), 5_000);
            out = new BufferedOutputStream(socket.getOutputStream(), 64 << 10);
            in = new BufferedInputStream(socket.getInputStream(), 64 << 10);
            try {
                sha256 = MessageDigest.getInstance("SHA-256");
                hmac = Mac.getInstance("HmacSHA256");
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException(e);
            }
        }

        void send(String method, String path, byte[] body) throws IOException {
            String amzDate = ZonedDateTime.now(ZoneOffset.UTC).format(AMZ_DATE);
            String date = amzDate.substring(0, 8);
            String scope = date + "/" + region + "/s3/aws4_request";
            String canonical = method + "\n" + path + "\n\nhost:" + hostHeader + "\nx-amz-content-sha256:" + UNSIGNED
                    + "\nx-amz-date:" + amzDate + "\n\n" + SIGNED_HEADERS + "\n" + UNSIGNED;
            String toSign = "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n"
                    + HexFormat.of().formatHex(sha256.digest(canonical.getBytes(StandardCharsets.UTF_8)));
            String signature = HexFormat.of().formatHex(hmac(signingKey(date), toSign));
            StringBuilder head = new StringBuilder(512).append(method).append(' ').append(path).append(" HTTP/1.1\r\n")
                    .append("Host: ").append(hostHeader).append("\r\n")
                    .append("x-amz-date: ").append(amzDate).append("\r\n")
                    .append("x-amz-content-sha256: ").append(UNSIGNED).append("\r\n")
                    .append("Authorization: AWS4-HMAC-SHA256 Credential=").append(accessKey).append('/').append(scope)
                    .append(", SignedHeaders=").append(SIGNED_HEADERS).append(", Signature=").append(signature)
                    .append("\r\n");
            if (body != null) {
                head.append("Content-Length: ").append(body.length).append("\r\n");
            }
            head.append("\r\n");
            try {
                out.write(head.toString().getBytes(StandardCharsets.ISO_8859_1));
                if (body != null) {
                    out.write(body);
                }
                out.flush();
            } catch (IOException e) {
                close();
                throw e;
            }
        }

        /**
         * Reads the answer, skipping its body; returns the body's length; throws unless its
         * status is in {@code ok}.
         */
        long expect(Set<Integer> ok) throws IOException {
            try {
                String statusLine = line();
                if (statusLine.length() < 12 || !statusLine.startsWith("HTTP/1.1 ")) {
                    throw new IOException("not an HTTP/1.1 response: " + statusLine);
                }
                int code = Integer.parseInt(statusLine.substring(9, 12));
                long length = -1;
                boolean keepAlive = true;
                for (String h = line(); !h.isEmpty(); h = line()) {
                    String lower = h.toLowerCase(Locale.ROOT);
                    if (lower.startsWith("content-length:")) {
                        length = Long.parseLong(h.substring(15).trim());
                    } else if (lower.startsWith("connection:") && lower.contains("close")) {
                        keepAlive = false;
                    } else if (lower.startsWith("transfer-encoding:")) {
                        throw new IOException("chunked responses are not expected here");
                    }
                }
                if (length < 0 && (code == 204 || code == 304)) {
                    length = 0; // never a body (RFC 9110), so no length needed either
                }
                if (length < 0) {
                    throw new IOException("a response without Content-Length");
                }
                for (long left = length; left > 0; ) {
                    int n = in.read(skip, 0, (int) Math.min(skip.length, left));
                    if (n < 0) {
                        throw new IOException("the response ended early");
                    }
                    left -= n;
                }
                if (!keepAlive) {
                    close();
                }
                if (!ok.contains(code)) {
                    throw new IOException("HTTP " + code + " (expected one of " + ok + ")");
                }
                return length;
            } catch (IOException | RuntimeException e) {
                close();
                throw e;
            }
        }

        private String line() throws IOException {
            StringBuilder b = new StringBuilder(64);
            for (int c = in.read(); c != '\n'; c = in.read()) {
                if (c < 0) {
                    throw new IOException("the connection closed");
                }
                if (c != '\r') {
                    b.append((char) c);
                }
            }
            return b.toString();
        }

        private byte[] signingKey(String date) {
            if (!date.equals(keyDate)) {
                byte[] k = hmac(("AWS4" + secretKey).getBytes(StandardCharsets.UTF_8), date);
                k = hmac(k, region);
                k = hmac(k, "s3");
                signingKey = hmac(k, "aws4_request");
                keyDate = date;
            }
            return signingKey;
        }

        private byte[] hmac(byte[] key, String data) {
            try {
                hmac.init(new SecretKeySpec(key, "HmacSHA256"));
            } catch (java.security.InvalidKeyException e) {
                throw new IllegalStateException(e);
            }
            return hmac.doFinal(data.getBytes(StandardCharsets.UTF_8));
        }

        void close() {
            closed = true;
            try {
                socket.close();
            } catch (IOException e) {
                // Closing anyway.
            }
        }
    }
}
