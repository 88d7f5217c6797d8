package io.hayloft.client;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Ports for servers on 127.0.0.1 chosen before they bind (a cluster in one process, a meta group,
 * the fault-injection suite's processes). A port the kernel picks (port 0) comes from its range of
 * ephemeral ports, and between the pick and the bind it can become the local port of some outgoing
 * connection; Ratis then fails to start its server and ends the JVM. These come from below that
 * range instead, free when chosen, and never twice in one JVM.
 */
public final class LoopbackPorts {
    private static final int LOWEST = 10_000;
    private static final Random RANDOM = new Random();
    private static final Set<Integer> GIVEN = ConcurrentHashMap.newKeySet();

    private LoopbackPorts() {}

    /** A port free on the loopback address now, below the ephemeral range. */
    public static int free() throws IOException {
        int high = Math.max(LOWEST + 1_000, ephemeralStart());
        for (int attempt = 0; attempt < 1_000; attempt++) {
            int port = LOWEST + RANDOM.nextInt(high - LOWEST);
            if (!GIVEN.add(port)) {
                continue;
            }
            try (ServerSocket s = new ServerSocket()) {
                s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1);
                return port;
            } catch (IOException e) {
                // In use: another.
            }
        }
        throw new IOException("no free loopback port between " + LOWEST + " and " + high);
    }

    /** The first ephemeral port of this machine (Linux), or the usual one elsewhere. */
    private static int ephemeralStart() {
        try {
            return Integer.parseInt(Files.readString(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).trim()
                    .split("\\s+")[0]);
        } catch (IOException | RuntimeException e) {
            return 32_768;
        }
    }
}
