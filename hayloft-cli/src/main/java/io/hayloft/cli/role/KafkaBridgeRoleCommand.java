package io.hayloft.cli.role;

import io.hayloft.cli.CliException;
import io.hayloft.cli.Credentials;
import io.hayloft.cli.Exit;
import io.hayloft.cli.Foreground;
import io.hayloft.kafka.BridgeConfig;
import io.hayloft.kafka.BridgeException;
import io.hayloft.kafka.KafkaBridge;
import io.hayloft.kafka.MetricsServer;
import io.hayloft.kafka.S3ImageStore;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.PrintWriter;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code hayloft kafka-bridge}: keeps the topic protocol of a Kafka-fronted image store working
 * with Hayloft behind it (docs/kafka-bridge.md). Run several with the same group to share the work.
 */
@Command(name = "kafka-bridge", description = {
    "Run the Kafka bridge: store images from a topic, answer requests on another.",
    "Keys of the --config file (flags of the same name override them): bootstrap-servers, group, endpoint,",
    "access-key, secret-key, region, bucket, initial-topic, request-topic, image-topic, max-in-flight,",
    "max-in-flight-mib, metrics-host, metrics-port; and kafka.* for the Kafka clients' own settings",
    "(kafka.consumer.* or kafka.producer.* for one of them). Without access-key and secret-key,",
    "HAYLOFT_ACCESS_KEY and HAYLOFT_SECRET_KEY are used."})
public final class KafkaBridgeRoleCommand implements Callable<Integer> {
    static final Set<String> KEYS = Set.of("bootstrap-servers", "group", "endpoint", "access-key", "secret-key",
            "region", "bucket", "initial-topic", "request-topic", "image-topic", "max-in-flight", "max-in-flight-mib",
            "metrics-host", "metrics-port");
    static final String KAFKA_PREFIX = "kafka.";

    @Option(names = "--config", paramLabel = "FILE", description = "A properties file of settings.")
    Path config;

    @Option(names = "--bootstrap-servers", paramLabel = "HOST:PORT,...", description = "The Kafka cluster.")
    String bootstrapServers;

    @Option(names = "--group", paramLabel = "ID", description = "Consumer group (default: hayloft-kafka-bridge).")
    String group;

    @Option(names = "--endpoint", paramLabel = "URL",
            description = "S3 endpoint of a Hayloft gateway (default: http://127.0.0.1:9000).")
    String endpoint;

    @Option(names = "--bucket", paramLabel = "NAME", description = "Bucket of the images (default: images).")
    String bucket;

    @Option(names = "--initial-topic", paramLabel = "TOPIC", description = "Images to store (default: initial).")
    String initialTopic;

    @Option(names = "--request-topic", paramLabel = "TOPIC",
            description = "Names to fetch (default: request-topic).")
    String requestTopic;

    @Option(names = "--image-topic", paramLabel = "TOPIC", description = "Fetched images (default: image-topic).")
    String imageTopic;

    @Option(names = "--max-in-flight", paramLabel = "N", description = "Records in flight at most (default: 256).")
    Integer maxInFlight;

    @Option(names = "--metrics-port", paramLabel = "PORT",
            description = "Port of /metrics and /health (default: 9464; 0 picks a free one).")
    Integer metricsPort;

    @Spec
    CommandSpec spec;

    /** The bridge's settings, where to serve its metrics, and whether the credentials are the development ones. */
    record Settings(BridgeConfig bridge, String metricsHost, int metricsPort, boolean developmentCredentials) {}

    Settings settings() {
        RoleSettings s = RoleSettings.load(config, KEYS, KAFKA_PREFIX).flag("bootstrap-servers", bootstrapServers)
                .flag("group", group).flag("endpoint", endpoint).flag("bucket", bucket)
                .flag("initial-topic", initialTopic).flag("request-topic", requestTopic)
                .flag("image-topic", imageTopic).flag("max-in-flight", maxInFlight).flag("metrics-port", metricsPort);
        String servers = String.join(",", s.list("bootstrap-servers").stream()
                .map(a -> s.hostPort("bootstrap-servers", a)).toList());
        Credentials credentials = s.credentials();
        URI uri;
        try {
            uri = new URI(s.get("endpoint", "http://127.0.0.1:9000"));
        } catch (URISyntaxException e) {
            throw s.bad("endpoint", "not a URL: " + e.getMessage());
        }
        try {
            BridgeConfig c = BridgeConfig.defaults(servers, uri, credentials.accessKey(), credentials.secretKey())
                    .withGroupId(s.get("group", BridgeConfig.DEFAULT_GROUP))
                    .withRegion(s.get("region", "us-east-1"))
                    .withBucket(s.get("bucket", BridgeConfig.DEFAULT_BUCKET))
                    .withTopics(s.get("initial-topic", BridgeConfig.DEFAULT_INITIAL_TOPIC),
                            s.get("request-topic", BridgeConfig.DEFAULT_REQUEST_TOPIC),
                            s.get("image-topic", BridgeConfig.DEFAULT_IMAGE_TOPIC))
                    .withInFlight(s.integer("max-in-flight", 256, 1, 100_000),
                            (long) s.integer("max-in-flight-mib", 256, 1, 65_536) << 20)
                    .withKafkaProperties(s.prefixed(KAFKA_PREFIX));
            return new Settings(c, s.get("metrics-host", "0.0.0.0"), s.integer("metrics-port", 9464, 0, 65535),
                    credentials.development());
        } catch (IllegalArgumentException e) {
            throw CliException.usage("kafka-bridge: " + e.getMessage());
        }
    }

    @Override
    public Integer call() throws Exception {
        Settings s = settings();
        BridgeConfig c = s.bridge();
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        S3ImageStore store = S3ImageStore.connect(c);
        try {
            store.ensureBucket();
        } catch (BridgeException e) {
            if (!e.isTransient()) {
                store.close();
                throw CliException.usage("kafka-bridge: " + e.getMessage());
            }
            err.printf("kafka-bridge: %s; images are kept in Kafka and stored once it answers%n", e.getMessage());
        }
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        KafkaBridge bridge;
        MetricsServer metrics;
        try {
            bridge = KafkaBridge.start(c, store, registry);
        } catch (RuntimeException e) {
            store.close();
            throw CliException.usage("kafka-bridge: " + e.getMessage());
        }
        try {
            metrics = MetricsServer.start(s.metricsHost(), s.metricsPort(), registry, bridge::isRunning);
        } catch (RuntimeException e) {
            bridge.close();
            store.close();
            throw e;
        }
        out.printf("kafka-bridge: %s -> s3://%s at %s, requests %s -> %s, group %s, Kafka %s%n", c.initialTopic(),
                c.bucket(), c.endpoint(), c.requestTopic(), c.imageTopic(), c.groupId(), c.bootstrapServers());
        out.printf("kafka-bridge: metrics at http://%s:%d/metrics%n", s.metricsHost(), metrics.port());
        if (s.developmentCredentials()) {
            out.println("WARNING: using the published development credentials; set "
                    + Credentials.ACCESS_KEY_ENV + " and " + Credentials.SECRET_KEY_ENV + ".");
        }
        out.flush();
        Foreground.run(new Running(bridge, metrics, store), err);
        if (bridge.failure() != null) {
            throw new CliException(Exit.FAILURE, "kafka-bridge stopped: " + bridge.failure().getMessage());
        }
        return 0;
    }

    /** The running bridge: waits until it stops (closed, or failed by itself). */
    private record Running(KafkaBridge bridge, MetricsServer metrics, S3ImageStore store) implements Foreground.Node {
        @Override
        public void awaitClosed() throws InterruptedException {
            bridge.awaitStopped();
        }

        @Override
        public void close() {
            bridge.close();
            metrics.close();
            store.close();
        }
    }
}
