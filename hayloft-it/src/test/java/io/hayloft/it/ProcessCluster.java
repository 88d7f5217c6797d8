package io.hayloft.it;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.hayloft.cli.Hayloft;
import io.hayloft.client.ClientOptions;
import io.hayloft.client.MetaClient;
import io.hayloft.proto.v1.ClusterStatusResponse;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * A Hayloft cluster of real processes on loopback: meta peers, stores and gateways, each a JVM
 * running the {@code hayloft} command with a settings file and a data directory of its own.
 *
 * <p>Every link the nemesis may cut runs through a {@link FaultProxy}: each store is reached by
 * everyone through a proxy of its own (its advertised port), and each store and gateway reaches
 * each meta peer through a proxy of its own. Raft between the meta peers is direct; the leader is
 * faulted by killing or pausing it instead.
 */
final class ProcessCluster implements AutoCloseable {
    static final String ACCESS_KEY = "chaos-access";
    static final String SECRET_KEY = "chaos-secret-key-0123456789";
    static final int HEARTBEAT_MS = 300;
    static final int DEAD_TIMEOUT_SECONDS = 4;

    enum Role { META, STORE, GATEWAY }

    /** One process of the cluster, which can be killed, paused and started again. */
    static final class Node {
        final String name;
        final Role role;
        final Path config;
        final Path log;
        final int port;
        volatile Process process;
        volatile boolean paused;

        Node(String name, Role role, Path config, Path log, int port) {
            this.name = name;
            this.role = role;
            this.config = config;
            this.log = log;
            this.port = port;
        }

        boolean isRunning() {
            Process p = process;
            return p != null && p.isAlive();
        }

        @Override
        public String toString() {
            return name;
        }
    }

    private final Path dir;
    private final List<Node> metas = new ArrayList<>();
    private final List<Node> stores = new ArrayList<>();
    private final List<Node> gateways = new ArrayList<>();
    /** Everyone's way to each store, by store name. */
    private final Map<String, FaultProxy> storeProxies = new LinkedHashMap<>();
    /** Each store's and gateway's way to each meta peer: name of the caller → proxies. */
    private final Map<String, List<FaultProxy>> metaProxies = new LinkedHashMap<>();
    /** One client per meta peer, each asking only it: the cluster status comes from the leader. */
    private final List<MetaClient> metaPeers = new ArrayList<>();

    ProcessCluster(Path dir, int metaCount, int storeCount, int gatewayCount) throws IOException {
        this.dir = dir;
        List<int[]> metaPorts = new ArrayList<>();
        for (int i = 0; i < metaCount; i++) {
            metaPorts.add(new int[] {freePort(), freePort()});
        }
        String peers = "";
        for (int i = 0; i < metaCount; i++) {
            peers += (i == 0 ? "" : ",") + "m" + i + "=127.0.0.1:" + metaPorts.get(i)[0] + "/127.0.0.1:"
                    + metaPorts.get(i)[1];
        }
        for (int i = 0; i < metaCount; i++) {
            String name = "m" + i;
            // Orphan audits every 18 s with a 45 s grace: longer than any put of the workload takes.
            metas.add(node(name, Role.META, metaPorts.get(i)[1], Map.of("id", name, "peers", peers,
                    "dir", dir.resolve(name).toString(), "heartbeat-ms", String.valueOf(HEARTBEAT_MS),
                    "dead-timeout-seconds", String.valueOf(DEAD_TIMEOUT_SECONDS), "repairs-at-once", "3",
                    "orphan-audit-hours", "0.005", "orphan-grace-hours", "0.0125")));
        }
        for (int i = 0; i < storeCount; i++) {
            String name = "s" + i;
            int port = freePort();
            FaultProxy inbound = new FaultProxy("to-" + name, port);
            storeProxies.put(name, inbound);
            stores.add(node(name, Role.STORE, port, Map.of("id", name, "dir", dir.resolve(name).toString(),
                    "bind", "127.0.0.1:" + port, "advertised-host", "127.0.0.1",
                    "advertised-port", String.valueOf(inbound.port()), "meta", metaVia(name, metaPorts),
                    "scrub-hours", "0.01", "scrub-mib-per-second", "256")));
        }
        for (int i = 0; i < gatewayCount; i++) {
            String name = "g" + i;
            int port = freePort();
            gateways.add(node(name, Role.GATEWAY, port, Map.of("meta", metaVia(name, metaPorts),
                    "host", "127.0.0.1", "port", String.valueOf(port), "access-key", ACCESS_KEY,
                    "secret-key", SECRET_KEY)));
        }
        for (Node m : metas) {
            metaPeers.add(MetaClient.connect(ClientOptions.of(List.of("127.0.0.1:" + m.port))
                    .withMetaTimeouts(Duration.ofSeconds(2), Duration.ofSeconds(2))));
        }
    }

    private String metaVia(String caller, List<int[]> metaPorts) throws IOException {
        List<FaultProxy> proxies = new ArrayList<>();
        for (int i = 0; i < metaPorts.size(); i++) {
            proxies.add(new FaultProxy(caller + "-to-m" + i, metaPorts.get(i)[1]));
        }
        metaProxies.put(caller, proxies);
        return proxies.stream().map(p -> "127.0.0.1:" + p.port()).collect(Collectors.joining(","));
    }

    private Node node(String name, Role role, int port, Map<String, String> settings) throws IOException {
        Path config = dir.resolve(name + ".properties");
        StringBuilder text = new StringBuilder();
        settings.forEach((k, v) -> text.append(k).append('=').append(v).append('\n'));
        Files.writeString(config, text);
        return new Node(name, role, config, dir.resolve(name + ".log"), port);
    }

    /** Starts every process and waits until the meta group has a leader and every store is live. */
    void start(Duration within) throws Exception {
        for (Node n : metas) {
            start(n);
        }
        for (Node n : stores) {
            start(n);
        }
        for (Node n : gateways) {
            start(n);
        }
        long deadline = System.nanoTime() + within.toNanos();
        while (true) {
            Optional<ClusterStatusResponse> s = status();
            if (s.isPresent() && s.get().getStoresCount() == stores.size()
                    && s.get().getStoresList().stream().allMatch(x -> x.getState().name().equals("STORE_LIVE"))
                    && gateways.stream().allMatch(g -> listening(g.port))) {
                return;
            }
            for (Node n : all()) {
                if (!n.isRunning()) {
                    throw new IllegalStateException(n + " exited while starting; its log: " + n.log);
                }
            }
            if (System.nanoTime() - deadline > 0) {
                throw new IllegalStateException("the cluster did not start within " + within + "; last status: "
                        + s.map(Object::toString).orElse("none") + "; logs in " + dir);
            }
            Thread.sleep(250);
        }
    }

    void start(Node n) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-Xss512k", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "--enable-native-access=ALL-UNNAMED", "-DHAYLOFT_LOG_LEVEL=INFO"));
        if (Runtime.version().feature() >= 23) {
            cmd.add("--sun-misc-unsafe-memory-access=allow");
        }
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Hayloft.class.getName(),
                n.role.name().toLowerCase(), "--config", n.config.toString()));
        Files.writeString(n.log, "---- start " + java.time.Instant.now() + "\n",
                java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
        n.paused = false;
        n.process = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(n.log.toFile())).start();
    }

    /** SIGKILL: no shutdown hook runs, nothing unsynced survives. */
    void kill(Node n) throws InterruptedException {
        Process p = n.process;
        if (p != null) {
            if (n.paused) {
                signal(n, "CONT");
            }
            p.destroyForcibly();
            p.waitFor(30, TimeUnit.SECONDS);
        }
        n.paused = false;
    }

    void pause(Node n) {
        signal(n, "STOP");
        n.paused = true;
    }

    void resume(Node n) {
        if (n.paused) {
            signal(n, "CONT");
            n.paused = false;
        }
    }

    /** Limits the size any file of the process may grow to; appends past it fail as on a full disk. */
    void limitFileSize(Node n, long bytes) {
        run("prlimit", "--pid", String.valueOf(n.process.pid()), "--fsize=" + bytes + ":unlimited");
    }

    void unlimitFileSize(Node n) {
        if (n.isRunning()) {
            run("prlimit", "--pid", String.valueOf(n.process.pid()), "--fsize=unlimited:unlimited");
        }
    }

    private static void signal(Node n, String signal) {
        Process p = n.process;
        if (p != null && p.isAlive()) {
            run("kill", "-" + signal, String.valueOf(p.pid()));
        }
    }

    /**
     * Writes the threads of every running process to NAME-threads.txt beside its log (with the
     * test JVM's jcmd), for a failure that shows no error, such as a repair that never ends.
     * Best effort: a process that does not answer is skipped.
     */
    void dumpThreads() {
        String jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd").toString();
        List<Node> all = new ArrayList<>(metas);
        all.addAll(stores);
        all.addAll(gateways);
        for (Node n : all) {
            Process p = n.process;
            if (p == null || !p.isAlive() || n.paused) {
                continue;
            }
            Path out = n.log.resolveSibling(n.name + "-threads.txt");
            try {
                // Thread.print leaves out virtual threads, where most of Hayloft's work runs.
                Files.deleteIfExists(out);
                Process dump = new ProcessBuilder(jcmd, String.valueOf(p.pid()), "Thread.dump_to_file", "-format=text",
                        out.toAbsolutePath().toString()).redirectErrorStream(true)
                        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
                if (!dump.waitFor(30, TimeUnit.SECONDS)) {
                    dump.destroyForcibly();
                }
            } catch (IOException e) {
                // skipped: the dump is an aid, the failure is reported anyway
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private static void run(String... cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException(String.join(" ", cmd) + " failed: " + out);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /**
     * The cluster as the meta leader sees it (with its repair queue and orphan audit), or empty
     * when no leader answers.
     */
    Optional<ClusterStatusResponse> status() {
        for (int i = 0; i < metaPeers.size(); i++) {
            if (!metas.get(i).isRunning() || metas.get(i).paused) {
                continue;
            }
            try {
                ClusterStatusResponse s = metaPeers.get(i).clusterStatus();
                if (s.hasRepair()) {
                    return Optional.of(s);
                }
            } catch (RuntimeException e) {
                // not answering: ask the next
            }
        }
        return Optional.empty();
    }

    /** The meta peer that leads now, if one does. */
    Optional<Node> metaLeader() {
        return status().flatMap(s -> s.getPeersList().stream().filter(p -> p.getLeader()).findFirst())
                .flatMap(p -> metas.stream().filter(m -> m.name.equals(p.getPeerId())).findFirst());
    }

    List<Node> metas() {
        return metas;
    }

    List<Node> stores() {
        return stores;
    }

    List<Node> gateways() {
        return gateways;
    }

    List<Node> all() {
        List<Node> all = new ArrayList<>(metas);
        all.addAll(stores);
        all.addAll(gateways);
        return all;
    }

    Node store(String name) {
        return stores.stream().filter(s -> s.name.equals(name)).findFirst().orElseThrow();
    }

    FaultProxy inboundOf(Node store) {
        return storeProxies.get(store.name);
    }

    List<FaultProxy> metaLinksOf(Node caller) {
        return metaProxies.get(caller.name);
    }

    List<FaultProxy> proxies() {
        List<FaultProxy> all = new ArrayList<>(storeProxies.values());
        metaProxies.values().forEach(all::addAll);
        return all;
    }

    Path dataDir(Node n) {
        return dir.resolve(n.name);
    }

    /** A channel straight to a store's own port, past its proxy; the caller shuts it down. */
    ManagedChannel channelTo(Node store) {
        return ManagedChannelBuilder.forAddress("127.0.0.1", store.port).usePlaintext()
                .maxInboundMessageSize(128 << 20).build();
    }

    Node storeByAdvertisedAddress(String address) {
        for (Node s : stores) {
            if (address.equals("127.0.0.1:" + storeProxies.get(s.name).port())) {
                return s;
            }
        }
        throw new IllegalArgumentException("no store is advertised at " + address);
    }

    private static boolean listening(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 500);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * A port free now, below the kernel's range of ephemeral ports: the processes get their ports
     * only when they start, and a port from that range could meanwhile become the local port of
     * some outgoing connection (a meta peer whose Raft port was taken could not start).
     */
    private static int freePort() throws IOException {
        return io.hayloft.client.LoopbackPorts.free();
    }

    @Override
    public void close() {
        for (Node n : all()) {
            Process p = n.process;
            if (p != null && p.isAlive()) {
                resume(n);
                p.destroyForcibly();
            }
        }
        for (Node n : all()) {
            Process p = n.process;
            if (p != null) {
                try {
                    p.waitFor(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
        proxies().forEach(FaultProxy::close);
        metaPeers.forEach(MetaClient::close);
    }
}
