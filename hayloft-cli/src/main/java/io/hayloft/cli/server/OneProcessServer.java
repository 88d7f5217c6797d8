package io.hayloft.cli.server;

import io.hayloft.cli.Credentials;
import io.hayloft.cli.Foreground;
import io.hayloft.client.HayloftClient;
import io.hayloft.cluster.LocalCluster;
import io.hayloft.gateway.Gateway;
import io.hayloft.gateway.GatewayConfig;
import io.hayloft.volume.VolumeException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * All of Hayloft in this process: one meta peer, a few stores and an S3 gateway, with their
 * files under one data directory and their ports kept in its {@link ServerLayout}, so that it
 * starts again from where it stopped. Meta and stores listen on 127.0.0.1 only; the gateway on
 * the host given, and it reads and swaps object names on the meta peer directly.
 */
public final class OneProcessServer implements Foreground.Node {
    private final Path dir;
    private final ServerLayout layout;
    private final LocalCluster cluster;
    private final HayloftClient client;
    private final Gateway gateway;
    private final CountDownLatch closed = new CountDownLatch(1);
    private boolean closing;

    /**
     * What to start.
     *
     * @param dir the data directory
     * @param host the address the S3 gateway binds
     * @param port the S3 port; 0 picks one
     * @param stores how many stores, 0 for as many as the directory had (3 for a new one)
     */
    public record Settings(Path dir, String host, int port, int stores, Credentials credentials) {}

    private OneProcessServer(Settings s, ServerLayout layout, LocalCluster cluster, HayloftClient client,
            Gateway gateway) {
        this.dir = s.dir();
        this.layout = layout;
        this.cluster = cluster;
        this.client = client;
        this.gateway = gateway;
    }

    /** Starts everything and returns once the stores are live and the gateway serves. */
    public static OneProcessServer start(Settings s) throws IOException, VolumeException {
        ServerLayout layout = ServerLayout.open(s.dir(), s.port(), s.stores());
        int stores = layout.storePorts().size();
        LocalCluster.Options options = LocalCluster.Options.defaults().withMetaPeers(1)
                .withReplicationFactor(Math.min(3, stores)).withStores(stores);
        LocalCluster cluster = LocalCluster.start(s.dir(), options, layout.ports());
        HayloftClient client = null;
        try {
            // The gateway reads its stores' needles and writes to their primaries in the process,
            // not through gRPC on loopback...
            client = cluster.clientCallingLocally();
            // ...and primaries reach their secondaries by a call as well.
            cluster.forwardInProcess();
            Gateway gateway = Gateway.start(GatewayConfig.defaults(s.credentials().accessKey(),
                    s.credentials().secretKey()).withHost(s.host()).withPort(s.port()), client,
                    new LocalObjectNames(cluster.meta().node(0), client.meta()));
            return new OneProcessServer(s, layout, cluster, client, gateway);
        } catch (RuntimeException e) {
            if (client != null) {
                client.close();
            }
            cluster.close();
            throw e;
        }
    }

    public Path dir() {
        return dir;
    }

    public ServerLayout layout() {
        return layout;
    }

    public String endpoint() {
        return gateway.endpoint();
    }

    public int replicationFactor() {
        return cluster.options().replicationFactor();
    }

    /** Each store's id and address. */
    public List<String> stores() {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < cluster.storeCount(); i++) {
            out.add(cluster.storeId(i) + " 127.0.0.1:" + layout.storePorts().get(i));
        }
        return out;
    }

    /** Blocks until {@link #close} has finished, in whichever thread it ran. */
    public void awaitClosed() throws InterruptedException {
        closed.await();
    }

    /** Stops the gateway, then the stores, then meta. Safe to call more than once and from any thread. */
    @Override
    public void close() throws IOException, VolumeException {
        synchronized (this) {
            if (closing) {
                return;
            }
            closing = true;
        }
        try {
            gateway.close();
            client.close();
            cluster.close();
        } finally {
            closed.countDown();
        }
    }
}
