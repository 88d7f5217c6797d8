package io.hayloft.gateway.auth;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import software.amazon.awssdk.checksums.spi.ChecksumAlgorithm;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4FamilyHttpSigner;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.HttpSigner;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;

/** Signs requests with the AWS SDK's own Signature V4 signer, set up as the SDK's S3 client sets it up. */
final class SdkSigning {
    static final String REGION = "us-east-1";

    /** A request as the gateway would see it, and the body bytes as sent on the wire. */
    record Signed(SignedRequest request, byte[] wireBody) {
    }

    /** How to sign: in the header or the query, payload signing, chunking, trailer checksum. */
    record Options(boolean presign, boolean payloadSigning, boolean chunked, ChecksumAlgorithm checksum,
                   Duration expiry) {
        static Options header(boolean payloadSigning) {
            return new Options(false, payloadSigning, false, null, null);
        }

        static Options chunked(boolean payloadSigning, ChecksumAlgorithm checksum) {
            return new Options(false, payloadSigning, true, checksum, null);
        }

        static Options presigned(Duration expiry) {
            return new Options(true, false, false, null, expiry);
        }
    }

    private SdkSigning() {
    }

    static Signed sign(SdkHttpRequest request, byte[] body, String accessKey, String secret, Clock clock,
                       Options options) {
        var signed = AwsV4HttpSigner.create().sign(r -> {
            r.identity(AwsCredentialsIdentity.create(accessKey, secret))
                    .request(request)
                    .putProperty(AwsV4FamilyHttpSigner.SERVICE_SIGNING_NAME, "s3")
                    .putProperty(AwsV4HttpSigner.REGION_NAME, REGION)
                    .putProperty(HttpSigner.SIGNING_CLOCK, clock)
                    .putProperty(AwsV4FamilyHttpSigner.DOUBLE_URL_ENCODE, false)
                    .putProperty(AwsV4FamilyHttpSigner.NORMALIZE_PATH, false)
                    .putProperty(AwsV4FamilyHttpSigner.PAYLOAD_SIGNING_ENABLED, options.payloadSigning())
                    .putProperty(AwsV4FamilyHttpSigner.CHUNK_ENCODING_ENABLED, options.chunked());
            if (body != null) {
                r.payload(ContentStreamProvider.fromByteArray(body));
            }
            if (options.checksum() != null) {
                r.putProperty(AwsV4FamilyHttpSigner.CHECKSUM_ALGORITHM, options.checksum());
            }
            if (options.presign()) {
                r.putProperty(AwsV4FamilyHttpSigner.AUTH_LOCATION, AwsV4FamilyHttpSigner.AuthLocation.QUERY_STRING)
                        .putProperty(AwsV4FamilyHttpSigner.EXPIRATION_DURATION, options.expiry());
            }
        });
        byte[] wire = signed.payload().map(p -> readAll(p.newStream())).orElse(new byte[0]);
        return new Signed(toGatewayRequest(signed.request()), wire);
    }

    /** The gateway's view of an SDK request: lower-case header names, the path and query as encoded. */
    static SignedRequest toGatewayRequest(SdkHttpRequest request) {
        Map<String, List<String>> headers = new TreeMap<>();
        request.forEachHeader((name, values) ->
                headers.computeIfAbsent(name.toLowerCase(Locale.ROOT), k -> new ArrayList<>()).addAll(values));
        if (!headers.containsKey("host")) {
            boolean defaultPort = request.port() == 80 && request.protocol().equals("http")
                    || request.port() == 443 && request.protocol().equals("https");
            headers.put("host", List.of(request.host() + (defaultPort ? "" : ":" + request.port())));
        }
        return new SignedRequest(request.method().name(), request.encodedPath(),
                request.encodedQueryParameters().orElse(""), headers);
    }

    static byte[] readAll(InputStream in) {
        try (in) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
