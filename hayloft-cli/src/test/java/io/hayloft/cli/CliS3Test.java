package io.hayloft.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The S3 commands against {@code hayloft server} in this JVM: buckets and objects made, listed,
 * inspected, downloaded and removed, the exit codes of what is missing, and a tiny benchmark.
 */
class CliS3Test {
    @TempDir
    static Path dir;

    private static Cli.Server server;
    private static String endpoint;

    @BeforeAll
    static void start() throws Exception {
        int port = Cli.freePort();
        server = new Cli.Server("--dir", dir.resolve("data").toString(), "--port", Integer.toString(port));
        endpoint = "http://127.0.0.1:" + port;
    }

    @AfterAll
    static void stop() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    private static Cli.Run s3(String... args) {
        String[] all = new String[args.length + 2];
        System.arraycopy(args, 0, all, 0, args.length);
        all[args.length] = "--endpoint";
        all[args.length + 1] = endpoint;
        return Cli.run(all);
    }

    private static Cli.Run ok(String... args) {
        Cli.Run run = s3(args);
        assertThat(run.exit()).as(String.join(" ", args) + ": " + run.err()).isZero();
        return run;
    }

    @Test
    void objectsGoInComeOutAndGoAway() throws Exception {
        ok("mb", "s3://photos");
        assertThat(ok("ls").out()).contains("photos");
        Path small = Files.writeString(dir.resolve("cat.txt"), "a cat, in text", StandardCharsets.UTF_8);
        ok("put", small.toString(), "s3://photos/2024/cat.txt", "-m", "owner=ann", "--content-type", "text/plain");
        ok("put", small.toString(), "s3://photos/");

        assertThat(ok("ls", "s3://photos").out()).containsPattern("PRE +2024/").contains("cat.txt");
        assertThat(ok("ls", "-r", "s3://photos").out()).contains("2024/cat.txt");
        String stat = ok("stat", "s3://photos/2024/cat.txt").out();
        assertThat(stat).contains("size          14 (14 B)", "content type  text/plain", "metadata      owner=ann");

        Path back = dir.resolve("back.txt");
        ok("get", "s3://photos/2024/cat.txt", back.toString());
        assertThat(Files.readString(back)).isEqualTo("a cat, in text");
        Path into = Files.createDirectories(dir.resolve("into"));
        ok("get", "s3://photos/cat.txt", into.toString());
        assertThat(into.resolve("cat.txt")).hasSameBinaryContentAs(small);

        assertThat(s3("rb", "s3://photos").exit()).isEqualTo(Exit.FAILURE);
        ok("rm", "s3://photos/2024/cat.txt");
        ok("rm", "s3://photos/cat.txt");
        assertThat(s3("stat", "s3://photos/cat.txt").exit()).isEqualTo(Exit.NOT_FOUND);
        ok("rb", "s3://photos");
    }

    @Test
    void aLargeFileGoesUpInPartsAndComesBackWhole() throws Exception {
        byte[] bytes = new byte[11 << 20];
        new Random(7).nextBytes(bytes);
        Path big = Files.write(dir.resolve("big.bin"), bytes);
        ok("mb", "s3://large");
        Cli.Run put = ok("put", big.toString(), "s3://large/big.bin", "--part-size", Integer.toString(5 << 20));
        assertThat(put.out()).contains("-3");  // a multipart ETag: <md5>-<parts>
        Path back = dir.resolve("big.back");
        ok("get", "s3://large/big.bin", back.toString());
        assertThat(back).hasSameBinaryContentAs(big);
        ok("rm", "s3://large/big.bin");
        ok("rb", "s3://large");
    }

    @Test
    void whatIsMissingIsNotFound() {
        ok("mb", "s3://empty");
        Cli.Run stat = s3("stat", "s3://empty/nothing");
        assertThat(stat.exit()).isEqualTo(Exit.NOT_FOUND);
        assertThat(stat.err()).isEqualTo("stat: not found: s3://empty/nothing" + System.lineSeparator());
        assertThat(s3("get", "s3://empty/nothing", dir.resolve("x").toString()).exit()).isEqualTo(Exit.NOT_FOUND);
        assertThat(Files.exists(dir.resolve("x"))).isFalse();
        assertThat(s3("rm", "s3://empty/nothing").exit()).isEqualTo(Exit.NOT_FOUND);
        assertThat(s3("ls", "s3://no-such-bucket").exit()).isEqualTo(Exit.NOT_FOUND);
        assertThat(s3("rb", "s3://no-such-bucket").exit()).isEqualTo(Exit.NOT_FOUND);
        ok("rb", "s3://empty");
    }

    @Test
    void benchWritesThenReadsAndReportsBothPhases() {
        for (String client : new String[] {"plain", "sdk"}) {
            Cli.Run bench = ok("bench", "-n", "40", "-s", "1KiB", "-c", "4", "--bucket", "bench-" + client,
                    "--client", client);
            assertThat(bench.out()).contains(client + " client")
                    .containsPattern("write +40 ops in .* ops/s, .* MB/s; latency p50 .* p99\\.9 ")
                    .containsPattern("read +40 ops in ").doesNotContain("failed");
        }
        // A read-only run over what the plain run wrote, with more reads than objects.
        assertThat(ok("bench", "-n", "40", "-s", "1KiB", "-c", "4", "--bucket", "bench-plain", "--no-write",
                "--reads", "100").out()).doesNotContain("write ").containsPattern("read +100 ops in ")
                .doesNotContain("failed");
        // Objects it never wrote are reported as failures.
        assertThat(s3("bench", "-n", "40", "-s", "1KiB", "--bucket", "bench-none", "--no-write").exit())
                .isEqualTo(Exit.FAILURE);
        // Objects of several chunks, and empty ones, through the plain client.
        assertThat(ok("bench", "-n", "3", "-s", "9MiB", "-c", "2", "--bucket", "bench-large").out())
                .doesNotContain("failed");
        assertThat(ok("bench", "-n", "3", "-s", "0", "-c", "2", "--bucket", "bench-empty").out())
                .doesNotContain("failed");
    }
}
