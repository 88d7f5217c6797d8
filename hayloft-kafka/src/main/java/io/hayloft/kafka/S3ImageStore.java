package io.hayloft.kafka;

import java.io.IOException;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3Configuration;
import software.amazon.awssdk.services.s3.model.BucketAlreadyOwnedByYouException;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * Images as objects in one bucket of a Hayloft gateway, over S3 with Signature V4 (the AWS SDK
 * for Java v2). A PUT that the gateway acknowledged is durable: its blobs are on every replica
 * and its name is committed in meta.
 *
 * <p>The SDK's own retries are off: the bridge retries with its own back-off and counts them.
 * Which failures are worth retrying: anything that is not the request's fault (5xx, timeouts,
 * refused connections, throttling), and also refused credentials and a missing bucket, which an
 * operator can fix, since giving up on those would drop the images. A missing bucket is created.
 */
public final class S3ImageStore implements ImageStore {
    private static final Logger log = LoggerFactory.getLogger(S3ImageStore.class);

    private final S3Client s3;
    private final String bucket;

    private S3ImageStore(S3Client s3, String bucket) {
        this.s3 = s3;
        this.bucket = bucket;
    }

    /** A store on the configuration's endpoint and bucket; nothing is asked of the gateway yet. */
    public static S3ImageStore connect(BridgeConfig config) {
        Duration timeout = config.requestTimeout();
        S3Client s3 = S3Client.builder()
                .endpointOverride(config.endpoint())
                .region(Region.of(config.region()))
                .credentialsProvider(StaticCredentialsProvider.create(
                        AwsBasicCredentials.create(config.accessKey(), config.secretKey())))
                .serviceConfiguration(S3Configuration.builder().pathStyleAccessEnabled(true).build())
                .overrideConfiguration(o -> o.retryStrategy(AwsRetryStrategy.doNotRetry())
                        .apiCallAttemptTimeout(timeout))
                .httpClient(UrlConnectionHttpClient.builder()
                        .connectionTimeout(timeout.compareTo(Duration.ofSeconds(5)) < 0 ? timeout : Duration.ofSeconds(5))
                        .socketTimeout(timeout)
                        .build())
                .build();
        return new S3ImageStore(s3, config.bucket());
    }

    /**
     * Creates the bucket when it does not exist yet. A refusal of the name ({@code
     * InvalidBucketName}) is permanent; the gateway being away is transient.
     */
    public void ensureBucket() throws BridgeException {
        try {
            s3.createBucket(b -> b.bucket(bucket));
            log.info("created bucket {}", bucket);
        } catch (BucketAlreadyOwnedByYouException e) {
            // There already: fine.
        } catch (SdkException e) {
            throw classify("create bucket " + bucket, e);
        } catch (IllegalArgumentException e) {
            // The SDK checks bucket names itself before sending.
            throw BridgeException.permanent("InvalidBucketName", "bucket " + bucket + ": " + e.getMessage());
        }
    }

    @Override
    public void put(String name, byte[] image) throws BridgeException {
        try {
            putOnce(name, image);
        } catch (BridgeException e) {
            if (!"NoSuchBucket".equals(e.code())) {
                throw e;
            }
            try {
                ensureBucket();
            } catch (BridgeException b) {
                // Whatever the reason, it is not the image's fault: keep it and retry.
                throw BridgeException.transientFailure(b.code(), b.getMessage(), b);
            }
            putOnce(name, image);
        }
    }

    private void putOnce(String name, byte[] image) throws BridgeException {
        try {
            s3.putObject(b -> b.bucket(bucket).key(name).contentLength((long) image.length),
                    RequestBody.fromBytes(image));
        } catch (SdkException e) {
            throw classify("store " + Names.shown(name), e);
        } catch (IllegalArgumentException e) {
            throw BridgeException.permanent("InvalidArgument", "store " + Names.shown(name) + ": " + e.getMessage());
        }
    }

    @Override
    public Fetch fetch(String name) throws BridgeException {
        String what = "fetch " + Names.shown(name);
        ResponseInputStream<GetObjectResponse> in;
        try {
            in = s3.getObject(b -> b.bucket(bucket).key(name));
        } catch (SdkException e) {
            throw classify(what, e);
        } catch (IllegalArgumentException e) {
            throw BridgeException.permanent("InvalidArgument", what + ": " + e.getMessage());
        }
        long size = in.response().contentLength();
        return new Fetch() {
            private boolean read;

            @Override
            public long size() {
                return size;
            }

            @Override
            public byte[] readAll() throws BridgeException {
                if (size > Integer.MAX_VALUE - 16) {
                    throw BridgeException.permanent(ImageRequests.TOO_LARGE, what + ": " + size + " bytes");
                }
                try {
                    byte[] data = in.readNBytes((int) size);
                    if (data.length != size) {
                        throw BridgeException.transientFailure("IncompleteBody", what + ": the body ended after "
                                + data.length + " of " + size + " bytes", null);
                    }
                    read = true;
                    return data;
                } catch (IOException | SdkException e) {
                    throw BridgeException.transientFailure("Unavailable", what + ": " + e.getMessage(), e);
                }
            }

            @Override
            public void close() {
                if (!read) {
                    // Drops the connection rather than reading a body nobody wants to its end.
                    in.abort();
                }
                try {
                    in.close();
                } catch (IOException e) {
                    // The connection is dropped either way.
                }
            }
        };
    }

    /** Sorts a failure into the record's fault (permanent) or the moment's (transient). */
    static BridgeException classify(String what, SdkException e) {
        if (e instanceof S3Exception s3e) {
            int status = s3e.statusCode();
            String code = s3e.awsErrorDetails() != null && s3e.awsErrorDetails().errorCode() != null
                    ? s3e.awsErrorDetails().errorCode() : "HTTP" + status;
            String message = what + ": " + code + " (HTTP " + status + ")";
            boolean retry = status >= 500 || status == 408 || status == 429 || status == 401 || status == 403
                    || "NoSuchBucket".equals(code) || "RequestTimeout".equals(code) || "SlowDown".equals(code);
            return retry ? BridgeException.transientFailure(code, message, e) : BridgeException.permanent(code, message);
        }
        return BridgeException.transientFailure("Unavailable", what + ": " + e.getMessage(), e);
    }

    @Override
    public void close() {
        s3.close();
    }
}
