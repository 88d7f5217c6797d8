package io.hayloft.cli.role;

import static org.assertj.core.api.Assertions.assertThat;

import io.hayloft.cli.Cli;
import io.hayloft.cli.Exit;
import io.hayloft.meta.server.MetaConfig;
import io.hayloft.store.StoreConfig;
import io.hayloft.store.StoreNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The roles' configuration files and flags: good files are read as written, flags win over
 * them, and bad input stops the command before any node starts, with one clear line and exit 2.
 */
class CliRoleConfigTest {
    @TempDir
    Path dir;

    private Path file(String name, String text) throws Exception {
        return Files.writeString(dir.resolve(name), text);
    }

    private static <T> T parsed(T command, String... args) {
        new CommandLine(command).parseArgs(args);
        return command;
    }

    @Test
    void metaConfigComesFromTheFileWithFlagsOverIt() throws Exception {
        Path conf = file("meta.properties", """
                id=meta0
                peers=meta0=h0:9100/h0:9101, meta1=h1:9100/h1:9101, meta2=h2:9100/h2:9101
                dir=/var/lib/hayloft/meta
                """);
        MetaConfig c = parsed(new MetaRoleCommand(), "--config", conf.toString(), "--id", "meta1").metaConfig();
        assertThat(c.peerId()).isEqualTo("meta1");
        assertThat(c.peers()).hasSize(3);
        assertThat(c.self()).isEqualTo(new MetaConfig.Peer("meta1", "h1:9100", "h1:9101"));
        assertThat(c.dataDir()).isEqualTo(Path.of("/var/lib/hayloft/meta"));
        assertThat(c.repairBytesPerSecond()).isEqualTo(MetaConfig.REPAIR_BYTES_PER_SECOND_DEFAULT);
        assertThat(c.repairsAtOnce()).isEqualTo(MetaConfig.REPAIRS_AT_ONCE_DEFAULT);
        assertThat(c.heartbeatInterval()).isEqualTo(MetaConfig.HEARTBEAT_INTERVAL_DEFAULT);
        assertThat(c.deadTimeout()).isEqualTo(MetaConfig.DEAD_TIMEOUT_DEFAULT);
        assertThat(c.orphanAuditInterval()).isEqualTo(MetaConfig.ORPHAN_AUDIT_INTERVAL_DEFAULT);
        assertThat(c.orphanGrace()).isEqualTo(MetaConfig.ORPHAN_GRACE_DEFAULT);

        Path tuned = file("meta-repair.properties", "id=meta0\npeers=meta0=h0:9100/h0:9101\ndir=/tmp/m\n"
                + "repair-mib-per-second=200\nrepairs-at-once=4\nheartbeat-ms=250\ndead-timeout-seconds=4\n"
                + "orphan-audit-hours=0.5\norphan-grace-hours=2\n");
        MetaConfig r = parsed(new MetaRoleCommand(), "--config", tuned.toString()).metaConfig();
        assertThat(r.repairBytesPerSecond()).isEqualTo(200L << 20);
        assertThat(r.repairsAtOnce()).isEqualTo(4);
        assertThat(r.heartbeatInterval()).isEqualTo(Duration.ofMillis(250));
        assertThat(r.deadTimeout()).isEqualTo(Duration.ofSeconds(4));
        assertThat(r.orphanAuditInterval()).isEqualTo(Duration.ofMinutes(30));
        assertThat(r.orphanGrace()).isEqualTo(Duration.ofHours(2));
    }

    @Test
    void storeIdentityComesFromTheFile() throws Exception {
        Path conf = file("store.properties", """
                id=store7
                rack=r2
                dir=/data/hayloft
                bind=0.0.0.0:9200
                advertised-host=node7.example
                meta=h0:9101,h1:9101
                """);
        StoreNode.Identity id = parsed(new StoreRoleCommand(), "--config", conf.toString()).identity();
        assertThat(id.storeId()).isEqualTo("store7");
        assertThat(id.rack()).isEqualTo("r2");
        assertThat(id.bindAddress().getPort()).isEqualTo(9200);
        assertThat(id.advertisedHost()).isEqualTo("node7.example");
        assertThat(id.advertisedPort()).isZero();
        assertThat(id.metaAddresses()).containsExactly("h0:9101", "h1:9101");
        assertThat(parsed(new StoreRoleCommand(), "--config", conf.toString()).storeConfig())
                .isEqualTo(StoreConfig.defaults());

        Path scrub = file("store-scrub.properties", "id=s\ndir=/tmp/s\nmeta=h:1\nscrub-hours=6\n"
                + "scrub-mib-per-second=100\nbind=127.0.0.1:9200\nadvertised-port=19200\n");
        assertThat(parsed(new StoreRoleCommand(), "--config", scrub.toString()).identity().advertisedPort())
                .isEqualTo(19200);
        StoreConfig c = parsed(new StoreRoleCommand(), "--config", scrub.toString()).storeConfig();
        assertThat(c.scrubIntervalMs()).isEqualTo(6 * 3_600_000L);
        Path often = file("store-scrub-often.properties", "id=s\ndir=/tmp/s\nmeta=h:1\nscrub-hours=0.01\n");
        assertThat(parsed(new StoreRoleCommand(), "--config", often.toString()).storeConfig().scrubIntervalMs())
                .isEqualTo(36_000L);
        assertThat(c.scrubBytesPerSecond()).isEqualTo(100L << 20);
        assertThat(c.pullStallMs()).isEqualTo(StoreConfig.defaults().pullStallMs());
        Path stall = file("store-stall.properties", "id=s\ndir=/tmp/s\nmeta=h:1\npull-stall-seconds=2.5\n");
        assertThat(parsed(new StoreRoleCommand(), "--config", stall.toString()).storeConfig().pullStallMs())
                .isEqualTo(2_500);
    }

    @Test
    void gatewaySettingsComeFromTheFile() throws Exception {
        Path conf = file("gateway.properties", """
                meta=h0:9101
                port=9100
                access-key=ak
                secret-key=sk\s\s
                domains=s3.example.com, localhost
                """);
        GatewayRoleCommand.Settings s = parsed(new GatewayRoleCommand(), "--config", conf.toString(),
                "--host", "127.0.0.1").settings();
        assertThat(s.gateway().port()).isEqualTo(9100);
        assertThat(s.gateway().host()).isEqualTo("127.0.0.1");
        // Trailing blanks, which properties files keep, are not part of the secret.
        assertThat(s.gateway().credentials()).containsEntry("ak", "sk");
        assertThat(s.developmentCredentials()).isFalse();
        assertThat(s.gateway().domains()).containsExactly("s3.example.com", "localhost");
    }

    @Test
    void kafkaBridgeSettingsComeFromTheFile() throws Exception {
        Path conf = file("bridge.properties", """
                bootstrap-servers=k1:9092, k2:9092
                endpoint=http://gw.example:9000
                access-key=ak
                secret-key=sk
                bucket=photos
                initial-topic=in
                max-in-flight=64
                max-in-flight-mib=32
                kafka.security.protocol=SASL_SSL
                kafka.consumer.session.timeout.ms=10000
                """);
        KafkaBridgeRoleCommand.Settings s = parsed(new KafkaBridgeRoleCommand(), "--config", conf.toString(),
                "--group", "g7", "--metrics-port", "0").settings();
        assertThat(s.bridge().bootstrapServers()).isEqualTo("k1:9092,k2:9092");
        assertThat(s.bridge().endpoint()).hasToString("http://gw.example:9000");
        assertThat(s.bridge().groupId()).isEqualTo("g7");
        assertThat(s.bridge().bucket()).isEqualTo("photos");
        assertThat(s.bridge().initialTopic()).isEqualTo("in");
        assertThat(s.bridge().requestTopic()).isEqualTo("request-topic");
        assertThat(s.bridge().imageTopic()).isEqualTo("image-topic");
        assertThat(s.bridge().maxInFlightRecords()).isEqualTo(64);
        assertThat(s.bridge().maxInFlightBytes()).isEqualTo(32L << 20);
        assertThat(s.bridge().kafkaProperties()).containsOnly(Map.entry("security.protocol", "SASL_SSL"),
                Map.entry("consumer.session.timeout.ms", "10000"));
        assertThat(s.metricsPort()).isZero();
        assertThat(s.developmentCredentials()).isFalse();
    }

    @Test
    void badKafkaBridgeConfigurationIsRefused() throws Exception {
        assertRefused("missing setting 'bootstrap-servers'", "kafka-bridge");
        Path unknown = file("k1.properties", "bootstrap-servers=k:9092\ntopic=x\n");
        assertRefused("unknown key 'topic'", "kafka-bridge", "--config", unknown.toString());
        assertRefused("--bootstrap-servers: 'kafka' is not host:port", "kafka-bridge", "--bootstrap-servers", "kafka");
        assertRefused("three different topics", "kafka-bridge", "--bootstrap-servers", "k:9092",
                "--request-topic", "initial");
        Path fixed = file("k2.properties", "bootstrap-servers=k:9092\nkafka.enable.auto.commit=true\n");
        assertRefused("enable.auto.commit is the bridge's own", "kafka-bridge", "--config", fixed.toString());
        assertRefused("endpoint must be an http:// or https:// URL", "kafka-bridge", "--bootstrap-servers",
                "k:9092", "--endpoint", "ftp://gw:21");
        // The bucket is made (or found) at start: a name no S3 store takes stops the bridge there.
        assertRefused("kafka-bridge: bucket ab: Bucket name should be between 3 and 63", "kafka-bridge",
                "--bootstrap-servers", "k:9092", "--endpoint", "http://127.0.0.1:" + Cli.freePort(), "--bucket", "ab");
        assertRefused("max-in-flight: must be 1 to 100000", "kafka-bridge", "--bootstrap-servers", "k:9092",
                "--max-in-flight", "0");
    }

    @Test
    void kafkaBridgeRunsServesHealthAndStopsOnInterrupt() throws Exception {
        // Nothing listens on the Kafka and S3 ports: the bridge runs, keeps trying, and says so.
        int metricsPort = Cli.freePort();
        try (Cli.Server bridge = Cli.Server.command("metrics at", "kafka-bridge",
                "--bootstrap-servers", "127.0.0.1:" + Cli.freePort(), "--endpoint", "http://127.0.0.1:" + Cli.freePort(),
                "--metrics-port", String.valueOf(metricsPort))) {
            assertThat(bridge.out()).contains("initial -> s3://images", "request-topic -> image-topic");
            assertThat(bridge.err()).contains("images are kept in Kafka and stored once it answers");
            HttpClient http = HttpClient.newHttpClient();
            HttpResponse<String> health = http.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + metricsPort + "/health")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(health.statusCode()).isEqualTo(200);
            HttpResponse<String> metrics = http.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + metricsPort + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(metrics.body()).contains("hayloft_bridge_in_flight_records");
            assertThat(bridge.stop()).isEqualTo(Exit.OK);
        }
    }

    private void assertRefused(String expected, String... args) {
        Cli.Run run = Cli.run(args);
        assertThat(run.exit()).as(run.out() + run.err()).isEqualTo(Exit.USAGE);
        assertThat(run.err()).contains(expected).doesNotContain("\tat ");
        assertThat(run.err().strip().lines()).hasSize(1);
    }

    @Test
    void badMetaConfigurationIsRefused() throws Exception {
        Path unknown = file("m1.properties", "id=meta0\npeerz=meta0=h:1/h:2\ndir=/tmp/x\n");
        assertRefused("unknown key 'peerz'", "meta", "--config", unknown.toString());
        Path badPeer = file("m2.properties", "id=meta0\npeers=meta0=h:1\ndir=/tmp/x\n");
        assertRefused("m2.properties: peers: 'meta0=h:1' is not id=raftHost:raftPort/apiHost:apiPort",
                "meta", "--config", badPeer.toString());
        Path twoPeers = file("m3.properties", "id=a\npeers=a=h:1/h:2,b=h:3/h:4\ndir=/tmp/x\n");
        assertRefused("a meta group has 1, 3 or 5 peers, not 2", "meta", "--config", twoPeers.toString());
        assertRefused("missing setting 'id'", "meta", "--peers", "a=h:1/h:2", "--dir", dir.toString());
        assertRefused("no such configuration file", "meta", "--config", dir.resolve("none").toString());
        Path badRepairs = file("m4.properties", "id=meta0\npeers=meta0=h:1/h:2\ndir=/tmp/x\nrepairs-at-once=0\n");
        assertRefused("m4.properties: repairs-at-once", "meta", "--config", badRepairs.toString());
    }

    @Test
    void badStoreConfigurationIsRefused() throws Exception {
        Path badPort = file("s1.properties", "id=s\ndir=/tmp/s\nbind=127.0.0.1:99999\nmeta=h:1\n");
        assertRefused("s1.properties: bind: port out of range", "store", "--config", badPort.toString());
        assertRefused("advertised-host", "store", "--id", "s", "--dir", "/tmp/s", "--meta", "h:1");
        assertRefused("--meta: 'nowhere' is not host:port", "store", "--id", "s", "--dir", "/tmp/s",
                "--bind", "127.0.0.1:0", "--meta", "nowhere");
    }

    @Test
    void badGatewayConfigurationIsRefused() throws Exception {
        Path badPort = file("g1.properties", "meta=h:1\nport=abc\n");
        assertRefused("g1.properties: port: not a number", "gateway", "--config", badPort.toString());
        Path halfKey = file("g2.properties", "meta=h:1\naccess-key=ak\n");
        assertRefused("give access-key and secret-key together", "gateway", "--config", halfKey.toString());
        Path badFlag = file("g3.properties", "meta=h:1\nanonymous=maybe\n");
        assertRefused("anonymous: must be true or false", "gateway", "--config", badFlag.toString());
        assertRefused("missing setting 'meta'", "gateway");
    }
}
