package io.hayloft.gateway.auth;

import io.hayloft.gateway.S3Error;
import io.hayloft.gateway.S3Exception;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Verifies AWS Signature Version 4 on S3 requests, as S3 does: the {@code Authorization} header
 * (with a signed, unsigned or aws-chunked payload) or a presigned URL's query parameters. Failures are
 * {@link S3Exception}s carrying the code S3 would answer with.
 *
 * <p>The canonical URI and query are computed from the decoded path and query re-encoded with AWS's
 * rules, as the AWS SDKs sign them; if that does not match, the path and query exactly as sent are
 * tried, for clients that sign their own wire form. Both name the same resource.
 */
public final class SigV4Verifier {
    /** How far a request's time may be from the gateway's clock, as S3 allows. */
    static final Duration MAX_SKEW = Duration.ofMinutes(15);
    private static final String ALGORITHM = AuthorizationHeader.ALGORITHM;

    private final Map<String, String> secrets;
    private final boolean allowAnonymous;
    private final Clock clock;
    private final SigningKeys signingKeys = new SigningKeys();

    /**
     * @param secrets access key id to secret key
     * @param allowAnonymous whether requests with no signature at all (no Authorization header, no
     *     presigned query parameters) are accepted as anonymous
     * @param clock the time the request dates are checked against
     */
    public SigV4Verifier(Map<String, String> secrets, boolean allowAnonymous, Clock clock) {
        this.secrets = Map.copyOf(secrets);
        this.allowAnonymous = allowAnonymous;
        this.clock = clock;
    }

    /**
     * Verifies the request's signature, from its Authorization header or its presigned query
     * parameters, and says how to read its body.
     *
     * @throws S3Exception with the code S3 would answer
     */
    public Authentication verify(SignedRequest request) {
        boolean byHeader = request.header("authorization") != null;
        boolean byQuery = PresignedParameters.present(request.rawQuery());
        if (byHeader && byQuery) {
            throw new S3Exception(S3Error.INVALID_ARGUMENT, "Only one auth mechanism allowed; only the X-Amz-Algorithm"
                    + " query parameter, Signature query string parameter or the Authorization header should be specified");
        }
        if (byHeader) {
            return verifyHeader(request);
        }
        if (byQuery) {
            return verifyPresigned(request);
        }
        if (!allowAnonymous) {
            throw new S3Exception(S3Error.ACCESS_DENIED);
        }
        return withoutSignedPayload(null, request);
    }

    /**
     * URI-encodes text with AWS's Signature V4 rules: every byte of its UTF-8 form outside
     * {@code A-Z a-z 0-9 - . _ ~} becomes {@code %XX} (upper-case hex); {@code '/'} too when {@code encodeSlash}.
     */
    public static String uriEncode(String text, boolean encodeSlash) {
        return Canonical.uriEncode(text, encodeSlash);
    }

    private Authentication verifyHeader(SignedRequest request) {
        AuthorizationHeader authorization = AuthorizationHeader.parse(request.header("authorization"));
        CredentialScope credential = authorization.credential();
        String secret = secretOf(credential.accessKey());
        List<String> signedHeaders = authorization.signedHeaderNames();
        requireSigned(request, signedHeaders, Set.of(), S3Error.AUTHORIZATION_HEADER_MALFORMED);
        String timestamp = requestTimestamp(request);
        Instant time = AmzDate.parseBasic(timestamp);
        Instant now = clock.instant();
        if (Duration.between(time, now).abs().compareTo(MAX_SKEW) > 0) {
            throw new S3Exception(S3Error.REQUEST_TIME_TOO_SKEWED);
        }
        if (!credential.date().equals(timestamp.substring(0, 8))) {
            throw new S3Exception(S3Error.AUTHORIZATION_HEADER_MALFORMED,
                    "Invalid credential date. Date is not the same as X-Amz-Date.");
        }
        String contentSha256 = request.header("x-amz-content-sha256");
        if (contentSha256 == null) {
            throw new S3Exception(S3Error.INVALID_REQUEST, "Missing required header for this request: x-amz-content-sha256");
        }
        PayloadMode mode = PayloadMode.of(contentSha256);
        byte[] key = signingKeys.get(secret, credential);
        checkSignature(request, key, timestamp, credential.scope(), signedHeaders, authorization.signedHeaders(),
                contentSha256, null, authorization.signature());
        ChunkSigner signer = mode.signedChunks()
                ? new ChunkSigner(key, timestamp, credential.scope(), authorization.signature())
                : null;
        return new VerifiedRequest(credential.accessKey(), mode, contentSha256, signer, trailerChecksum(request, mode),
                contentLength(request), decodedContentLength(request, mode));
    }

    private Authentication verifyPresigned(SignedRequest request) {
        PresignedParameters presigned = PresignedParameters.parse(request.rawQuery());
        CredentialScope credential = presigned.credential();
        String secret = secretOf(credential.accessKey());
        if (!credential.date().equals(presigned.amzDate().substring(0, 8))) {
            throw new S3Exception(S3Error.AUTHORIZATION_QUERY_PARAMETERS_ERROR,
                    "Invalid credential date. Date is not the same as X-Amz-Date.");
        }
        Instant now = clock.instant();
        if (presigned.date().isAfter(now.plus(MAX_SKEW))) {
            throw new S3Exception(S3Error.REQUEST_TIME_TOO_SKEWED);
        }
        if (now.isAfter(presigned.date().plusSeconds(presigned.expiresSeconds()))) {
            throw new S3Exception(S3Error.ACCESS_DENIED, "Request has expired");
        }
        List<String> signedHeaders = presigned.signedHeaderNames();
        requireSigned(request, signedHeaders, Set.of("x-amz-content-sha256"), S3Error.AUTHORIZATION_QUERY_PARAMETERS_ERROR);
        byte[] key = signingKeys.get(secret, credential);
        checkSignature(request, key, presigned.amzDate(), credential.scope(), signedHeaders, presigned.signedHeaders(),
                PayloadMode.UNSIGNED_PAYLOAD, PresignedParameters.SIGNATURE, presigned.signature());
        return withoutSignedPayload(credential.accessKey(), request);
    }

    /**
     * The body handling of a request whose payload no signature covers (presigned or anonymous): as is,
     * or checked against a hash or checksum trailer the client sent anyway.
     */
    private static Authentication withoutSignedPayload(String accessKey, SignedRequest request) {
        String contentSha256 = request.header("x-amz-content-sha256");
        PayloadMode mode;
        if (contentSha256 != null) {
            mode = PayloadMode.of(contentSha256);
        } else {
            String encoding = request.header("content-encoding");
            boolean chunked = encoding != null && encoding.toLowerCase(Locale.ROOT).contains("aws-chunked");
            mode = chunked ? PayloadMode.STREAMING_UNSIGNED_TRAILER : PayloadMode.UNSIGNED;
        }
        if (mode.signedChunks()) {
            throw new S3Exception(S3Error.INVALID_REQUEST,
                    "x-amz-content-sha256 " + contentSha256 + " needs Authorization header signing.");
        }
        return new VerifiedRequest(accessKey, mode, contentSha256, null, trailerChecksum(request, mode),
                contentLength(request), decodedContentLength(request, mode));
    }

    private String secretOf(String accessKey) {
        String secret = secrets.get(accessKey);
        if (secret == null) {
            throw new S3Exception(S3Error.INVALID_ACCESS_KEY_ID);
        }
        return secret;
    }

    /** {@code host} must be signed, and so must every {@code x-amz-*} header present but those exempt. */
    private static void requireSigned(SignedRequest request, List<String> signedHeaders, Set<String> exempt,
                                      S3Error malformed) {
        if (!signedHeaders.contains("host")) {
            throw new S3Exception(malformed, "The host header must be signed.");
        }
        List<String> unsigned = request.headers().keySet().stream()
                .filter(name -> name.startsWith("x-amz-") && !exempt.contains(name) && !signedHeaders.contains(name))
                .sorted().toList();
        if (!unsigned.isEmpty()) {
            throw new S3Exception(S3Error.ACCESS_DENIED,
                    "There were headers present in the request which were not signed: " + String.join(", ", unsigned));
        }
    }

    /** The request time as the string to sign carries it: X-Amz-Date, else the Date header re-formatted. */
    private static String requestTimestamp(SignedRequest request) {
        String amzDate = request.header("x-amz-date");
        if (amzDate != null) {
            if (AmzDate.parseBasic(amzDate) != null) {
                return amzDate;
            }
        } else {
            Instant date = AmzDate.parseHttp(request.header("date"));
            if (date != null) {
                return AmzDate.formatBasic(date);
            }
        }
        throw new S3Exception(S3Error.ACCESS_DENIED, "AWS authentication requires a valid Date or x-amz-date header");
    }

    private static void checkSignature(SignedRequest request, byte[] key, String timestamp, String scope,
                                       List<String> signedHeaderNames, String signedHeaders, String payloadHash,
                                       String excludedParameter, String provided) {
        String headers = Canonical.headers(request, signedHeaderNames);
        String uri = Canonical.uri(request.rawPath());
        String query = Canonical.query(request.rawQuery(), true, excludedParameter);
        String expected = signature(key, timestamp, scope,
                Canonical.request(request.method(), uri, query, headers, signedHeaders, payloadHash));
        if (Hashing.sameSignature(expected, provided)) {
            return;
        }
        String rawUri = request.rawPath().isEmpty() ? "/" : request.rawPath();
        String rawQuery = Canonical.query(request.rawQuery(), false, excludedParameter);
        if (!rawUri.equals(uri) || !rawQuery.equals(query)) {
            String asSent = signature(key, timestamp, scope,
                    Canonical.request(request.method(), rawUri, rawQuery, headers, signedHeaders, payloadHash));
            if (Hashing.sameSignature(asSent, provided)) {
                return;
            }
        }
        throw new S3Exception(S3Error.SIGNATURE_DOES_NOT_MATCH);
    }

    static String signature(byte[] key, String timestamp, String scope, String canonicalRequest) {
        String stringToSign = ALGORITHM + '\n' + timestamp + '\n' + scope + '\n' + Hashing.sha256Hex(canonicalRequest);
        return Hashing.HEX.formatHex(Hashing.hmac(key, stringToSign));
    }

    private static TrailerChecksum trailerChecksum(SignedRequest request, PayloadMode mode) {
        String trailer = request.header("x-amz-trailer");
        if (!mode.trailer() || trailer == null) {
            return null;
        }
        for (String name : trailer.split(",")) {
            TrailerChecksum checksum = TrailerChecksum.forHeader(name);
            if (checksum != null) {
                return checksum;
            }
        }
        return null;
    }

    private static long contentLength(SignedRequest request) {
        return parseLength(request.header("content-length"), "Content-Length");
    }

    private static long decodedContentLength(SignedRequest request, PayloadMode mode) {
        return mode.chunked() ? parseLength(request.header("x-amz-decoded-content-length"),
                "x-amz-decoded-content-length") : -1;
    }

    private static long parseLength(String value, String name) {
        if (value == null) {
            return -1;
        }
        try {
            long length = Long.parseLong(value.trim());
            if (length >= 0) {
                return length;
            }
        } catch (NumberFormatException e) {
            // answered below
        }
        throw new S3Exception(S3Error.INVALID_ARGUMENT, name + " must be a non-negative number.");
    }
}
