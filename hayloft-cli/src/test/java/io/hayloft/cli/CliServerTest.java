package io.hayloft.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.hayloft.cli.server.ServerLayout;
import io.hayloft.client.ClientOptions;
import io.hayloft.client.HayloftClient;
import io.hayloft.proto.v1.Chunk;
import io.hayloft.proto.v1.Fid;
import io.hayloft.proto.v1.ObjectInfo;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code hayloft server} in this JVM: status and health answer, and a restart on the same data
 * directory finds the meta peer and stores where they were and every object written before.
 */
class CliServerTest {
    @TempDir
    Path dir;

    @Test
    void serverAnswersStatusAndHealthAndKeepsObjectsAcrossARestart() throws Exception {
        int port = Cli.freePort();
        String data = dir.resolve("data").toString();
        byte[] bytes = "kept across restarts".getBytes(StandardCharsets.UTF_8);
        String meta;
        try (Cli.Server server = new Cli.Server("--dir", data, "--port", Integer.toString(port))) {
            assertThat(server.out()).contains("http://127.0.0.1:" + port, "replication factor 3", "hayloft-secret");
            meta = ServerLayout.read(Path.of(data)).orElseThrow().metaApiAddress();
            assertThat(server.out()).contains(meta);

            Cli.Run status = Cli.run("status", "--meta", meta);
            assertThat(status.exit()).as(status.err()).isZero();
            assertThat(status.out()).contains("leader meta0", "stores (3, 3 live)", "degraded volumes (0)");
            Cli.Run health = Cli.run("health", "--meta", meta);
            assertThat(health.exit()).as(health.out() + health.err()).isZero();
            assertThat(health.out()).startsWith("healthy");

            try (HayloftClient client = HayloftClient.connect(ClientOptions.of(List.of(meta)))) {
                Fid fid = client.write(bytes);
                client.meta().createBucket("keep");
                client.meta().putObject(ObjectInfo.newBuilder().setBucket("keep").setKey("note.txt")
                        .addChunks(Chunk.newBuilder().setFid(fid).setLength(bytes.length)).setSize(bytes.length)
                        .build());
            }
            Cli.Run stats = Cli.run("stats", "--meta", meta);
            assertThat(stats.exit()).isZero();
            assertThat(stats.out()).contains("stores         3 (3 live)");
            assertThat(server.stop()).isZero();
        }

        try (Cli.Server again = new Cli.Server("--dir", data, "--port", Integer.toString(port))) {
            assertThat(again.out()).contains(meta);
            Cli.Run health = Cli.run("health", "--meta", meta);
            assertThat(health.exit()).as(health.out() + health.err()).isZero();
            try (HayloftClient client = HayloftClient.connect(ClientOptions.of(List.of(meta)))) {
                ObjectInfo o = client.meta().getObject("keep", "note.txt");
                assertThat(client.read(o.getChunks(0).getFid())).isEqualTo(bytes);
            }
        }
    }

    @Test
    void healthAndStatusReportAnUnreachableMeta() throws Exception {
        String nobody = "127.0.0.1:" + Cli.freePort();
        Cli.Run health = Cli.run("health", "--meta", nobody, "--timeout", "1");
        assertThat(health.exit()).isEqualTo(Exit.UNREACHABLE);
        assertThat(health.err()).startsWith("health: meta unreachable").doesNotContain("\tat ");
        assertThat(Cli.run("status", "--meta", nobody, "--timeout", "1").exit()).isEqualTo(Exit.UNREACHABLE);
    }
}
