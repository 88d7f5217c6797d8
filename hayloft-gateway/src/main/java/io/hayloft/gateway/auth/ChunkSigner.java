package io.hayloft.gateway.auth;

/**
 * Computes the signatures of an aws-chunked body: each chunk's signature covers the chunk's data and
 * the previous signature (the first chunk's, the request's seed signature), so chunks can be neither
 * altered, dropped nor reordered; the trailer's signature covers the trailer lines and the last
 * chunk's signature.
 */
record ChunkSigner(byte[] signingKey, String timestamp, String scope, String seedSignature) {
    private static final String CHUNK_ALGORITHM = "AWS4-HMAC-SHA256-PAYLOAD";
    private static final String TRAILER_ALGORITHM = "AWS4-HMAC-SHA256-TRAILER";

    String chunk(String previousSignature, String dataSha256Hex) {
        return sign(CHUNK_ALGORITHM + '\n' + timestamp + '\n' + scope + '\n' + previousSignature + '\n'
                + Hashing.EMPTY_SHA256 + '\n' + dataSha256Hex);
    }

    String trailer(String previousSignature, String canonicalTrailers) {
        return sign(TRAILER_ALGORITHM + '\n' + timestamp + '\n' + scope + '\n' + previousSignature + '\n'
                + Hashing.sha256Hex(canonicalTrailers));
    }

    private String sign(String stringToSign) {
        return Hashing.HEX.formatHex(Hashing.hmac(signingKey, stringToSign));
    }
}
