package io.hayloft.gateway.auth;

import java.io.InputStream;

/**
 * The {@link Authentication} of a request whose signature (or anonymity) was accepted: its body is
 * read according to its payload mode.
 *
 * @param accessKey the access key id, null when anonymous
 * @param contentSha256 the signed payload hash when the mode is {@link PayloadMode#SHA256}
 * @param signer the chunk signer (with the seed signature) for signed aws-chunked bodies, else null
 * @param checksum the trailer checksum {@code x-amz-trailer} names and the gateway computes, else null
 * @param contentLength the Content-Length, or -1
 * @param decodedContentLength the x-amz-decoded-content-length, or -1
 */
record VerifiedRequest(String accessKey, PayloadMode mode, String contentSha256, ChunkSigner signer,
                       TrailerChecksum checksum, long contentLength, long decodedContentLength)
        implements Authentication {

    @Override
    public InputStream body(InputStream raw) {
        return switch (mode) {
            case UNSIGNED -> raw;
            case SHA256 -> new DigestCheckingInputStream(raw, contentSha256, contentLength);
            case STREAMING_SIGNED, STREAMING_SIGNED_TRAILER, STREAMING_UNSIGNED_TRAILER ->
                    new AwsChunkedInputStream(raw, signer, mode.trailer(), checksum, decodedContentLength);
        };
    }

    @Override
    public long decodedLength() {
        return mode.chunked() ? decodedContentLength : contentLength;
    }
}
