package io.hayloft.kafka;

import io.hayloft.client.HayloftClient;
import io.hayloft.cluster.LocalCluster;
import io.hayloft.gateway.Gateway;
import io.hayloft.gateway.GatewayConfig;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3Configuration;

/**
 * What {@code hayloft server} runs, in the test JVM: one meta peer, three stores (rf 3, fsync on)
 * and an S3 gateway on a loopback port, which can be stopped and started again on that port.
 */
final class HayloftUnderTest implements AutoCloseable {
    static final String ACCESS_KEY = "bridge-test-access";
    static final String SECRET_KEY = "bridge-test-secret-0123456789";

    final LocalCluster cluster;
    private final HayloftClient client;
    private final GatewayConfig gatewayConfig;
    private Gateway gateway;
    private final URI endpoint;

    private HayloftUnderTest(LocalCluster cluster, HayloftClient client, GatewayConfig gatewayConfig, Gateway gateway) {
        this.cluster = cluster;
        this.client = client;
        this.gateway = gateway;
        this.gatewayConfig = gatewayConfig.withPort(gateway.port());
        this.endpoint = URI.create(gateway.endpoint());
    }

    static HayloftUnderTest start(Path dir) throws Exception {
        LocalCluster.Options o = LocalCluster.Options.defaults().withMetaPeers(1);
        LocalCluster cluster = LocalCluster.start(dir, o);
        HayloftClient client = cluster.client();
        // Small chunks, so that some images span several blobs.
        GatewayConfig config = GatewayConfig.defaults(ACCESS_KEY, SECRET_KEY).withHost("127.0.0.1").withPort(0)
                .withChunkBytes(64 << 10);
        return new HayloftUnderTest(cluster, client, config, Gateway.start(config, client));
    }

    URI endpoint() {
        return endpoint;
    }

    void stopGateway() {
        gateway.close();
    }

    void startGateway() {
        gateway = Gateway.start(gatewayConfig, client);
    }

    BridgeConfig bridgeConfig(String bootstrapServers) {
        return BridgeConfig.defaults(bootstrapServers, endpoint, ACCESS_KEY, SECRET_KEY)
                .withRetryBackoff(Duration.ofMillis(50), Duration.ofSeconds(1))
                .withCommitInterval(Duration.ofMillis(200))
                .withRequestTimeout(Duration.ofSeconds(10));
    }

    S3Client s3() {
        return S3Client.builder()
                .endpointOverride(endpoint)
                .region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS_KEY, SECRET_KEY)))
                .serviceConfiguration(S3Configuration.builder().pathStyleAccessEnabled(true).build())
                .httpClient(UrlConnectionHttpClient.builder().socketTimeout(Duration.ofSeconds(30)).build())
                .build();
    }

    @Override
    public void close() throws Exception {
        gateway.close();
        client.close();
        cluster.close();
    }
}
