package io.hayloft.store;

import io.hayloft.client.HayloftException;
import io.hayloft.client.MetaClient;
import io.hayloft.proto.v1.StoreInfo;
import io.hayloft.volume.VolumeConfig;
import io.hayloft.volume.VolumeException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A store as a member of a cluster: its {@link StoreServer}, registration and heartbeats with
 * meta, and the reports of failed replicas that turn volumes read-only.
 */
public final class StoreNode implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(StoreNode.class);

    private final StoreServer server;
    /** This store as it registers with meta: its id, rack and the address others reach it at. */
    private final StoreInfo self;
    private final MetaClient meta;
    private final StoreHeartbeats heartbeats;

    /**
     * Who the store is and where it serves.
     *
     * @param storeId stable across restarts: meta knows the store's volumes by it
     * @param rack the rack or failure domain, empty when unknown
     * @param dataDir the directory of its volumes
     * @param bindAddress where it listens (port 0 picks one)
     * @param advertisedHost the host others reach it at
     * @param advertisedPort the port others reach it at, 0 for the one bound (another one when a
     *     proxy or a port mapping stands in front of the store)
     * @param metaAddresses the meta peers' API addresses
     */
    public record Identity(String storeId, String rack, Path dataDir, InetSocketAddress bindAddress,
            String advertisedHost, int advertisedPort, List<String> metaAddresses) {
        /** A store reached at the port it binds. */
        public Identity(String storeId, String rack, Path dataDir, InetSocketAddress bindAddress,
                String advertisedHost, List<String> metaAddresses) {
            this(storeId, rack, dataDir, bindAddress, advertisedHost, 0, metaAddresses);
        }

        public Identity {
            if (advertisedPort < 0 || advertisedPort > 65535) {
                throw new IllegalArgumentException("advertised port " + advertisedPort + " is not a port");
            }
            Objects.requireNonNull(storeId, "storeId");
            Objects.requireNonNull(rack, "rack");
            Objects.requireNonNull(dataDir, "dataDir");
            Objects.requireNonNull(bindAddress, "bindAddress");
            Objects.requireNonNull(advertisedHost, "advertisedHost");
            metaAddresses = List.copyOf(metaAddresses);
            if (storeId.isEmpty() || metaAddresses.isEmpty()) {
                throw new IllegalArgumentException("a store needs an id and at least one meta address");
            }
        }
    }

    private StoreNode(Identity id, VolumeConfig volumeConfig, StoreConfig config) throws VolumeException, IOException {
        meta = MetaClient.connect(id.metaAddresses());
        try {
            server = StoreServer.start(id.storeId(), id.dataDir(), volumeConfig, config, id.bindAddress(),
                    this::reportFailure);
        } catch (IOException | RuntimeException e) {
            meta.close();
            throw e;
        }
        self = StoreInfo.newBuilder().setStoreId(id.storeId()).setRack(id.rack())
                .setAddress(id.advertisedHost() + ":" + (id.advertisedPort() == 0 ? server.port() : id.advertisedPort()))
                .build();
        heartbeats = new StoreHeartbeats(self, server.volumes(), meta);
        Thread.ofVirtual().name("catch-up-" + id.storeId()).start(server::catchUpWithPrimaries);
    }

    /** Opens the data directory, serves it, and joins the cluster (registration runs in the background). */
    public static StoreNode start(Identity id, VolumeConfig volumeConfig, StoreConfig config)
            throws VolumeException, IOException {
        return new StoreNode(id, volumeConfig, config);
    }

    /** Tells meta off the failed write's path, so that the client's answer does not wait for it. */
    private void reportFailure(int volumeId, String reason) {
        ReplicaFailureListener.logging().onReplicaFailed(volumeId, reason);
        Thread.ofVirtual().name("report-volume-" + volumeId).start(() -> {
            try {
                meta.reportVolumeFailure(volumeId, server.storeId(), reason);
            } catch (HayloftException e) {
                // The heartbeats report the sealed volume as read-only too, so meta learns of it anyway.
                log.warn("could not report volume {} to meta: {}", volumeId, e.getMessage());
            }
        });
    }

    /** The address (host:port) meta gives out for this store. */
    public String address() {
        return self.getAddress();
    }

    public StoreServer server() {
        return server;
    }

    public int port() {
        return server.port();
    }

    /** True once meta has accepted the store's registration. */
    public boolean registered() {
        return heartbeats.registered();
    }

    @Override
    public void close() throws VolumeException {
        try {
            heartbeats.close();
            meta.close();
        } finally {
            server.close();
        }
    }
}
