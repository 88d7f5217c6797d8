package io.hayloft.gateway.auth;

import io.hayloft.gateway.S3Error;
import io.hayloft.gateway.S3Exception;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Decodes an {@code aws-chunked} body: {@code <hex size>[;chunk-signature=<sig>]\r\n<data>\r\n} per
 * chunk, a last chunk of size 0, then either {@code \r\n} or trailer lines ({@code name:value\r\n},
 * possibly {@code x-amz-trailer-signature}) and {@code \r\n}.
 *
 * <p>Signed chunks are read whole and verified before any of their bytes are handed out, so memory is
 * one chunk (at most {@link #MAX_CHUNK_SIZE}, grown as the data arrives). Unsigned chunks stream
 * through. A fault throws {@link S3Exception} from {@code read()}, and again from every later read.
 */
final class AwsChunkedInputStream extends InputStream {
    /** The largest chunk accepted; SDKs send 64 to 128 KiB. */
    static final int MAX_CHUNK_SIZE = 16 << 20;
    private static final int MAX_LINE = 4096;
    private static final int MAX_TRAILER_BYTES = 16 << 10;
    private static final int INITIAL_BUFFER = 64 << 10;
    private static final String SIGNATURE_EXTENSION = "chunk-signature=";
    private static final String TRAILER_SIGNATURE = "x-amz-trailer-signature";

    private final InputStream in;
    private final ChunkSigner signer;
    private final boolean trailerExpected;
    private final TrailerChecksum checksum;
    private final TrailerChecksum.Running running;
    private final long declaredLength;

    private String previousSignature;
    private byte[] buffer = new byte[0];
    private int bufferPos;
    private int bufferEnd;
    private long chunkRemaining;
    private long decoded;
    private boolean finished;
    private S3Exception failure;

    /**
     * @param signer verifies chunk and trailer signatures; null when chunks are unsigned
     * @param trailerExpected whether trailer lines follow the last chunk
     * @param checksum the trailer checksum to verify ({@code x-amz-trailer}), or null
     * @param declaredLength {@code x-amz-decoded-content-length}, or -1
     */
    AwsChunkedInputStream(InputStream raw, ChunkSigner signer, boolean trailerExpected, TrailerChecksum checksum,
                          long declaredLength) {
        this.in = new BufferedInputStream(raw, 16 << 10);
        this.signer = signer;
        this.trailerExpected = trailerExpected;
        this.checksum = checksum;
        this.running = checksum == null ? null : checksum.start();
        this.declaredLength = declaredLength;
        this.previousSignature = signer == null ? null : signer.seedSignature();
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (failure != null) {
            throw failure;
        }
        if (len == 0) {
            return 0;
        }
        try {
            while (true) {
                if (bufferPos < bufferEnd) {
                    int n = Math.min(len, bufferEnd - bufferPos);
                    System.arraycopy(buffer, bufferPos, b, off, n);
                    bufferPos += n;
                    return n;
                }
                if (chunkRemaining > 0) {
                    return streamUnsigned(b, off, len);
                }
                if (finished) {
                    return -1;
                }
                nextChunk();
            }
        } catch (S3Exception e) {
            failure = e;
            throw e;
        }
    }

    @Override
    public int available() {
        return bufferEnd - bufferPos;
    }

    @Override
    public void close() throws IOException {
        in.close();
    }

    private int streamUnsigned(byte[] b, int off, int len) throws IOException {
        int n = in.read(b, off, (int) Math.min(len, chunkRemaining));
        if (n < 0) {
            throw incomplete();
        }
        account(b, off, n);
        chunkRemaining -= n;
        if (chunkRemaining == 0) {
            expectLineEnd();
        }
        return n;
    }

    private void nextChunk() throws IOException {
        String header = readLine();
        int semicolon = header.indexOf(';');
        long size = parseSize(semicolon < 0 ? header : header.substring(0, semicolon));
        if (signer == null) {
            chunkRemaining = size;
            if (size == 0) {
                finish();
            }
            return;
        }
        String signature = semicolon < 0 ? null : signatureExtension(header.substring(semicolon + 1));
        if (signature == null) {
            throw new S3Exception(S3Error.SIGNATURE_DOES_NOT_MATCH, "A chunk has no chunk-signature.");
        }
        int length = (int) size;
        readChunk(length);
        if (length > 0) {
            expectLineEnd();
        }
        String expected = signer.chunk(previousSignature, Hashing.sha256Hex(buffer, 0, length));
        if (!Hashing.sameSignature(expected, signature)) {
            throw new S3Exception(S3Error.SIGNATURE_DOES_NOT_MATCH, "A chunk's signature does not match its data.");
        }
        previousSignature = expected;
        account(buffer, 0, length);
        bufferPos = 0;
        bufferEnd = length;
        if (length == 0) {
            finish();
        }
    }

    /** Reads a signed chunk's data into the buffer, growing it only as data arrives. */
    private void readChunk(int length) throws IOException {
        int read = 0;
        while (read < length) {
            if (read == buffer.length) {
                int grown = Math.max(INITIAL_BUFFER, buffer.length * 2);
                buffer = Arrays.copyOf(buffer, Math.min(length, grown));
            }
            int n = in.read(buffer, read, Math.min(length, buffer.length) - read);
            if (n < 0) {
                throw incomplete();
            }
            read += n;
        }
    }

    private void account(byte[] data, int offset, int length) {
        if (running != null) {
            running.update(data, offset, length);
        }
        decoded += length;
    }

    /** After the last (empty) chunk: the trailer or the closing empty line, then the length check. */
    private void finish() throws IOException {
        if (trailerExpected) {
            readTrailer();
        } else if (!readLine().isEmpty()) {
            throw invalid("The aws-chunked body does not end with an empty line.");
        }
        if (declaredLength >= 0 && decoded != declaredLength) {
            throw new S3Exception(S3Error.INCOMPLETE_BODY, "The decoded body has " + decoded
                    + " bytes where x-amz-decoded-content-length says " + declaredLength + ".");
        }
        finished = true;
    }

    private void readTrailer() throws IOException {
        List<Map.Entry<String, String>> trailers = new ArrayList<>();
        String trailerSignature = null;
        int bytes = 0;
        for (String line = readLine(); !line.isEmpty(); line = readLine()) {
            bytes += line.length() + 2;
            int colon = line.indexOf(':');
            if (colon <= 0 || bytes > MAX_TRAILER_BYTES) {
                throw invalid("The aws-chunked trailer is malformed.");
            }
            String name = line.substring(0, colon).trim().toLowerCase(Locale.ROOT);
            String value = line.substring(colon + 1).trim();
            if (name.equals(TRAILER_SIGNATURE)) {
                trailerSignature = value;
            } else {
                trailers.add(Map.entry(name, value));
            }
        }
        if (signer != null) {
            if (trailerSignature == null) {
                throw new S3Exception(S3Error.SIGNATURE_DOES_NOT_MATCH, "The trailer has no x-amz-trailer-signature.");
            }
            String expected = signer.trailer(previousSignature, Canonical.trailers(trailers));
            if (!Hashing.sameSignature(expected, trailerSignature)) {
                throw new S3Exception(S3Error.SIGNATURE_DOES_NOT_MATCH, "The trailer's signature does not match.");
            }
        }
        if (checksum != null) {
            verifyChecksum(trailers);
        }
    }

    private void verifyChecksum(List<Map.Entry<String, String>> trailers) {
        String sent = trailers.stream().filter(t -> t.getKey().equals(checksum.headerName()))
                .map(Map.Entry::getValue).findFirst()
                .orElseThrow(() -> invalid("x-amz-trailer names " + checksum.headerName() + " but the trailer has none."));
        if (!running.base64().equals(sent)) {
            throw new S3Exception(S3Error.BAD_DIGEST,
                    "The " + checksum.displayName() + " you specified did not match the calculated checksum.");
        }
    }

    private static long parseSize(String hex) {
        if (hex.isEmpty() || hex.length() > 8) {
            throw invalid("The chunk size '" + hex + "' is not a hex number of at most 8 digits.");
        }
        long size = 0;
        for (int i = 0; i < hex.length(); i++) {
            int digit = Character.digit(hex.charAt(i), 16);
            if (digit < 0) {
                throw invalid("The chunk size '" + hex + "' is not a hex number.");
            }
            size = size * 16 + digit;
        }
        if (size > MAX_CHUNK_SIZE) {
            throw invalid("A chunk of " + size + " bytes is larger than the " + MAX_CHUNK_SIZE + " accepted.");
        }
        return size;
    }

    private static String signatureExtension(String extensions) {
        for (String extension : extensions.split(";")) {
            String trimmed = extension.trim();
            if (trimmed.startsWith(SIGNATURE_EXTENSION)) {
                return trimmed.substring(SIGNATURE_EXTENSION.length());
            }
        }
        return null;
    }

    private void expectLineEnd() throws IOException {
        int cr = in.read();
        int lf = in.read();
        if (cr < 0 || lf < 0) {
            throw incomplete();
        }
        if (cr != '\r' || lf != '\n') {
            throw invalid("A chunk's data is not followed by CRLF.");
        }
    }

    /** Reads a line ending in CRLF, without it; at most {@link #MAX_LINE} bytes. */
    private String readLine() throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream(96);
        while (true) {
            int c = in.read();
            if (c < 0) {
                throw incomplete();
            }
            if (c == '\n') {
                byte[] bytes = line.toByteArray();
                if (bytes.length == 0 || bytes[bytes.length - 1] != '\r') {
                    throw invalid("An aws-chunked line does not end with CRLF.");
                }
                return new String(bytes, 0, bytes.length - 1, StandardCharsets.UTF_8);
            }
            if (line.size() >= MAX_LINE) {
                throw invalid("An aws-chunked line is longer than " + MAX_LINE + " bytes.");
            }
            line.write(c);
        }
    }

    private static S3Exception incomplete() {
        return new S3Exception(S3Error.INCOMPLETE_BODY, "The aws-chunked body ended early.");
    }

    private static S3Exception invalid(String message) {
        return new S3Exception(S3Error.INVALID_REQUEST, message);
    }
}
