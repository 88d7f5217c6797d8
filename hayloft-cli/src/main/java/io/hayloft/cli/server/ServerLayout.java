package io.hayloft.cli.server;

import io.hayloft.cli.CliException;
import io.hayloft.cli.Exit;
import io.hayloft.cluster.LocalCluster;
import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;

/**
 * The loopback ports of a one-process server's meta peer and stores, chosen at its first start
 * and kept in {@code <data dir>/server.properties}, so that a restart finds its nodes where Raft
 * and the stores' registrations remember them.
 *
 * <p>At the first start each port is derived from the S3 port {@code P} (meta Raft {@code P+100},
 * meta API {@code P+101}, store {@code i} {@code P+110+i}) when that port is free, and is any
 * free port otherwise. Later starts use the file and nothing else: the S3 port may change, the
 * internal ports do not. More stores than the file lists add stores; fewer are refused, as the
 * missing stores' volumes would go unserved.
 *
 * <pre>
 * # server.properties, version 1
 * layout.version=1
 * meta.raft.port=9100
 * meta.api.port=9101
 * store.count=3
 * store.0.port=9110
 * store.1.port=9111
 * store.2.port=9112
 * </pre>
 */
public record ServerLayout(int metaRaftPort, int metaApiPort, List<Integer> storePorts) {
    public static final String FILE = "server.properties";
    static final int VERSION = 1;
    static final int META_RAFT_OFFSET = 100;
    static final int META_API_OFFSET = 101;
    static final int STORE_OFFSET = 110;

    public ServerLayout {
        storePorts = List.copyOf(storePorts);
    }

    /** The layout kept in {@code dir}, if a server ran there. */
    public static Optional<ServerLayout> read(Path dir) throws IOException {
        Path file = dir.resolve(FILE);
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file)) {
            p.load(r);
        }
        try {
            if (Integer.parseInt(p.getProperty("layout.version", "")) != VERSION) {
                throw new CliException(Exit.FAILURE, file + ": layout.version " + p.getProperty("layout.version")
                        + " is not " + VERSION);
            }
            int count = Integer.parseInt(p.getProperty("store.count", ""));
            List<Integer> stores = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                stores.add(Integer.parseInt(p.getProperty("store." + i + ".port", "")));
            }
            return Optional.of(new ServerLayout(Integer.parseInt(p.getProperty("meta.raft.port", "")),
                    Integer.parseInt(p.getProperty("meta.api.port", "")), stores));
        } catch (NumberFormatException e) {
            throw new CliException(Exit.FAILURE, file + " is damaged (" + e.getMessage() + "); it lists the ports the data "
                    + "directory's nodes use");
        }
    }

    /**
     * The layout of the server in {@code dir}: the kept one, grown to {@code stores} stores when
     * that is more; or a new one. Written back when it changed.
     *
     * @param stores how many stores, or 0 for as many as before (3 for a new server)
     */
    public static ServerLayout open(Path dir, int s3Port, int stores) throws IOException {
        Optional<ServerLayout> kept = read(dir);
        ServerLayout layout;
        if (kept.isPresent()) {
            layout = kept.get();
            int had = layout.storePorts().size();
            if (stores != 0 && stores < had) {
                throw CliException.usage(dir + " holds " + had + " stores; start it with --stores " + had
                        + " or more");
            }
            if (stores <= had) {
                return layout;
            }
            layout = layout.grow(s3Port, stores);
        } else {
            layout = create(s3Port, stores == 0 ? 3 : stores);
        }
        layout.write(dir);
        return layout;
    }

    private static ServerLayout create(int s3Port, int stores) throws IOException {
        Set<Integer> taken = new HashSet<>(Set.of(s3Port));
        int raft = pick(s3Port, META_RAFT_OFFSET, taken);
        int api = pick(s3Port, META_API_OFFSET, taken);
        return new ServerLayout(raft, api, new ArrayList<>()).grow(s3Port, stores, taken);
    }

    private ServerLayout grow(int s3Port, int stores) throws IOException {
        Set<Integer> taken = new HashSet<>(storePorts);
        taken.addAll(List.of(s3Port, metaRaftPort, metaApiPort));
        return grow(s3Port, stores, taken);
    }

    private ServerLayout grow(int s3Port, int stores, Set<Integer> taken) throws IOException {
        List<Integer> ports = new ArrayList<>(storePorts);
        for (int i = ports.size(); i < stores; i++) {
            ports.add(pick(s3Port, STORE_OFFSET + i, taken));
        }
        return new ServerLayout(metaRaftPort, metaApiPort, ports);
    }

    /** {@code s3Port + offset} when that is a free port not yet taken, else a free port the system picks. */
    private static int pick(int s3Port, int offset, Set<Integer> taken) throws IOException {
        int derived = s3Port + offset;
        int port = s3Port > 0 && derived <= 65535 && !taken.contains(derived) && free(derived) ? derived
                : systemPicked(taken);
        taken.add(port);
        return port;
    }

    private static boolean free(int port) {
        try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static int systemPicked(Set<Integer> taken) throws IOException {
        while (true) {
            try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                if (!taken.contains(s.getLocalPort())) {
                    return s.getLocalPort();
                }
            }
        }
    }

    private void write(Path dir) throws IOException {
        Files.createDirectories(dir);
        Properties p = new Properties();
        p.setProperty("layout.version", Integer.toString(VERSION));
        p.setProperty("meta.raft.port", Integer.toString(metaRaftPort));
        p.setProperty("meta.api.port", Integer.toString(metaApiPort));
        p.setProperty("store.count", Integer.toString(storePorts.size()));
        for (int i = 0; i < storePorts.size(); i++) {
            p.setProperty("store." + i + ".port", Integer.toString(storePorts.get(i)));
        }
        Path tmp = dir.resolve(FILE + ".tmp");
        try (Writer w = Files.newBufferedWriter(tmp)) {
            p.store(w, "Hayloft server: the ports of its meta peer and stores; keep them stable");
        }
        try (FileChannel c = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
            c.force(true);
        }
        Files.move(tmp, dir.resolve(FILE), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    public String metaApiAddress() {
        return "127.0.0.1:" + metaApiPort;
    }

    public String metaRaftAddress() {
        return "127.0.0.1:" + metaRaftPort;
    }

    /** The ports as the cluster takes them. */
    public LocalCluster.Ports ports() {
        return new LocalCluster.Ports(List.of(metaRaftPort), List.of(metaApiPort), storePorts);
    }
}
