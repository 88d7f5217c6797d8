package io.hayloft.store;

import io.hayloft.client.HayloftException;
import io.hayloft.client.MetaClient;
import io.hayloft.proto.v1.HeartbeatRequest;
import io.hayloft.proto.v1.StoreInfo;
import io.hayloft.proto.v1.VolumeReport;
import io.hayloft.volume.Volume;
import io.hayloft.volume.VolumeSet;
import io.hayloft.volume.VolumeStats;
import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A store's side of liveness: registers with the meta leader, then heartbeats with its volumes'
 * sizes and states at the interval the leader asks for. It follows leader changes through
 * {@link MetaClient}, and registers again when a leader does not know it.
 */
final class StoreHeartbeats implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(StoreHeartbeats.class);
    private static final long RETRY_MS = 500;

    private final StoreInfo self;
    private final VolumeSet volumes;
    private final MetaClient meta;
    private final Thread thread;
    private volatile boolean closed;
    private volatile boolean registered;

    StoreHeartbeats(StoreInfo self, VolumeSet volumes, MetaClient meta) {
        this.self = self;
        this.volumes = volumes;
        this.meta = meta;
        this.thread = Thread.ofVirtual().name("store-heartbeats-" + self.getStoreId()).start(this::run);
    }

    /** True once meta has accepted this store's registration. */
    boolean registered() {
        return registered;
    }

    private void run() {
        long interval = RETRY_MS;
        while (!closed) {
            try {
                if (!registered) {
                    interval = Math.max(50, meta.registerStore(withSpace(self)).getHeartbeatIntervalMs());
                    registered = true;
                    log.info("store {} registered with meta", self.getStoreId());
                } else if (meta.heartbeat(heartbeat()).getRegisterAgain()) {
                    registered = false;
                    continue;
                }
                Thread.sleep(interval);
            } catch (InterruptedException e) {
                return;
            } catch (HayloftException e) {
                if (!closed) {
                    log.debug("store {}: meta did not answer: {}", self.getStoreId(), e.getMessage());
                }
                sleepQuietly(RETRY_MS);
            } catch (RuntimeException e) {
                if (!closed) {
                    log.warn("store {}: heartbeat failed", self.getStoreId(), e);
                }
                sleepQuietly(RETRY_MS);
            }
        }
    }

    private void sleepQuietly(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            closed = true;
        }
    }

    private StoreInfo withSpace(StoreInfo s) {
        try {
            FileStore fs = Files.getFileStore(volumes.directory());
            return s.toBuilder().setCapacityBytes(fs.getTotalSpace()).setFreeBytes(fs.getUsableSpace()).build();
        } catch (IOException e) {
            return s;
        }
    }

    private HeartbeatRequest heartbeat() {
        HeartbeatRequest.Builder hb = HeartbeatRequest.newBuilder().setStoreId(self.getStoreId())
                .setFreeBytes(withSpace(self).getFreeBytes());
        for (Volume v : volumes.volumes()) {
            VolumeStats s = v.stats();
            hb.addVolumes(VolumeReport.newBuilder().setVolumeId(s.volumeId()).setSizeBytes(s.sizeBytes())
                    .setGarbageBytes(s.garbageBytes()).setLastSequence(s.lastSequence())
                    .setReadOnly(s.sealed() || s.failed() || nearlyFull(v, s)).setFull(nearlyFull(v, s))
                    .setFailed(s.failed()));
        }
        return hb.build();
    }

    /**
     * A volume with no room left for a needle of the largest size is reported read-only, so that
     * meta stops assigning it before writes start failing with VOLUME_FULL.
     */
    private static boolean nearlyFull(Volume v, VolumeStats s) {
        return s.sizeBytes() + v.config().needleSizeBytesMax() + 64 > v.config().volumeSizeBytesMax();
    }

    @Override
    public void close() {
        closed = true;
        thread.interrupt();
        try {
            thread.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
