package io.hayloft.cli.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.hayloft.cli.CliException;
import io.hayloft.cli.Exit;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The server's ports: derived from the S3 port when free, kept in the data directory, grown, never shrunk. */
class CliServerLayoutTest {
    @TempDir
    Path dir;

    private static int freeBase() throws Exception {
        for (int attempt = 0; attempt < 50; attempt++) {
            int base;
            try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                base = s.getLocalPort();
            }
            if (base + 120 <= 65535) {
                return base;
            }
        }
        throw new IllegalStateException("no port with room above it");
    }

    @Test
    void aNewLayoutDerivesPortsFromTheS3PortAndIsKept() throws Exception {
        int base = freeBase();
        ServerLayout first = ServerLayout.open(dir, base, 0);
        assertThat(first.storePorts()).hasSize(3);
        assertThat(Files.exists(dir.resolve(ServerLayout.FILE))).isTrue();
        assertThat(ServerLayout.open(dir, base + 1, 0)).isEqualTo(first);
        assertThat(ServerLayout.read(dir)).contains(first);
    }

    @Test
    void aTakenDerivedPortIsReplacedByAFreeOne() throws Exception {
        int base = freeBase();
        try (ServerSocket taken = new ServerSocket(base + 100, 1, InetAddress.getLoopbackAddress())) {
            ServerLayout layout = ServerLayout.open(dir, base, 1);
            assertThat(layout.metaRaftPort()).isNotEqualTo(base + 100).isNotEqualTo(base);
        }
    }

    @Test
    void moreStoresAreAddedAndFewerAreRefused() throws Exception {
        int base = freeBase();
        ServerLayout three = ServerLayout.open(dir, base, 3);
        ServerLayout five = ServerLayout.open(dir, base, 5);
        assertThat(five.storePorts()).hasSize(5).startsWith(three.storePorts().toArray(Integer[]::new));
        assertThat(five.storePorts()).doesNotHaveDuplicates()
                .doesNotContain(five.metaApiPort(), five.metaRaftPort(), base);
        assertThatThrownBy(() -> ServerLayout.open(dir, base, 2)).isInstanceOf(CliException.class)
                .hasMessageContaining("--stores 5")
                .satisfies(e -> assertThat(((CliException) e).exitCode()).isEqualTo(Exit.USAGE));
    }

    @Test
    void aDamagedFileIsReportedNotRewritten() throws Exception {
        Files.writeString(dir.resolve(ServerLayout.FILE), "layout.version=1\nmeta.raft.port=x\n");
        assertThatThrownBy(() -> ServerLayout.open(dir, 9000, 0)).isInstanceOf(CliException.class)
                .hasMessageContaining("damaged");
        assertThat(Files.readString(dir.resolve(ServerLayout.FILE))).contains("meta.raft.port=x");
    }
}
