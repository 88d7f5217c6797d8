package io.hayloft.gateway;

import io.hayloft.client.HayloftClient;
import io.hayloft.cluster.LocalCluster;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.UnaryOperator;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;
import software.amazon.awssdk.services.s3.S3Configuration;
import software.amazon.awssdk.services.s3.presigner.S3Presigner;

/**
 * What {@code hayloft server} runs, in the test JVM: one meta peer, three stores (rf 3, fsync on)
 * and a gateway on a free loopback port, with S3 clients of the AWS SDK for Java v2 pointed at it.
 */
final class GatewayFixture implements AutoCloseable {
    static final String ACCESS_KEY = "test-access";
    static final String SECRET_KEY = "test-secret-key-0123456789";

    final LocalCluster cluster;
    final HayloftClient client;
    final Gateway gateway;

    private GatewayFixture(LocalCluster cluster, HayloftClient client, Gateway gateway) {
        this.cluster = cluster;
        this.client = client;
        this.gateway = gateway;
    }

    static GatewayFixture start(Path dir, GatewayConfig config) throws Exception {
        return start(dir, config, names -> names);
    }

    /** As {@link #start(Path, GatewayConfig)}, with the gateway's names seen through {@code names}. */
    static GatewayFixture start(Path dir, GatewayConfig config, UnaryOperator<ObjectNames> names) throws Exception {
        LocalCluster cluster = LocalCluster.start(dir, LocalCluster.Options.defaults().withMetaPeers(1));
        HayloftClient client = cluster.client();
        Gateway gateway = Gateway.start(config, client, names.apply(ObjectNames.remote(client.meta())));
        return new GatewayFixture(cluster, client, gateway);
    }

    /**
     * As {@code hayloft server} wires it: the gateway calls the stores of the process directly,
     * and primaries forward to secondaries in the process; the cluster as {@code options} says.
     */
    static GatewayFixture startInProcess(Path dir, LocalCluster.Options options, UnaryOperator<ObjectNames> names)
            throws Exception {
        LocalCluster cluster = LocalCluster.start(dir, options);
        cluster.forwardInProcess();
        HayloftClient client = cluster.clientCallingLocally();
        Gateway gateway = Gateway.start(config(), client, names.apply(ObjectNames.remote(client.meta())));
        return new GatewayFixture(cluster, client, gateway);
    }

    static GatewayConfig config() {
        return GatewayConfig.defaults(ACCESS_KEY, SECRET_KEY).withPort(0)
                // Small chunks, so that modest objects already span several blobs.
                .withChunkBytes(256 << 10)
                .withMinPartBytes(5L << 20);
    }

    URI endpoint() {
        return URI.create(gateway.endpoint());
    }

    S3Client s3() {
        return s3(ACCESS_KEY, SECRET_KEY);
    }

    /** A client that does not try a request again after a 5xx answer, for tests of those answers. */
    S3Client s3TryingOnce() {
        return s3Builder(ACCESS_KEY, SECRET_KEY)
                .overrideConfiguration(o -> o.retryStrategy(AwsRetryStrategy.doNotRetry()))
                .build();
    }

    S3Client s3(String accessKey, String secretKey) {
        return s3Builder(accessKey, secretKey).build();
    }

    private S3ClientBuilder s3Builder(String accessKey, String secretKey) {
        return S3Client.builder()
                .endpointOverride(endpoint())
                .region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(accessKey, secretKey)))
                .serviceConfiguration(S3Configuration.builder().pathStyleAccessEnabled(true).build())
                .httpClient(UrlConnectionHttpClient.builder().socketTimeout(Duration.ofSeconds(60)).build());
    }

    S3Presigner presigner() {
        return S3Presigner.builder()
                .endpointOverride(endpoint())
                .region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS_KEY, SECRET_KEY)))
                .serviceConfiguration(S3Configuration.builder().pathStyleAccessEnabled(true).build())
                .build();
    }

    @Override
    public void close() throws Exception {
        gateway.close();
        client.close();
        cluster.close();
    }
}
