package io.hayloft.cli.cluster;

import io.hayloft.cli.Bytes;
import io.hayloft.proto.v1.StoreInfo;
import io.hayloft.proto.v1.StoreState;
import io.hayloft.proto.v1.VolumeInfo;
import java.io.PrintWriter;
import picocli.CommandLine.Command;

/**
 * {@code hayloft stats}: totals over the cluster. Bytes stored and garbage count each volume
 * once; on disk they take that times the volume's replica count.
 */
@Command(name = "stats", description = "Show cluster totals: stores, volumes, bytes stored, garbage, free space.")
public final class StatsCommand extends ClusterCommand {
    @Override
    int run(ClusterReport report, PrintWriter out) {
        var status = report.status();
        long stored = 0;
        long garbage = 0;
        long onDisk = 0;
        for (VolumeInfo v : status.getVolumesList()) {
            stored += v.getSizeBytes();
            garbage += v.getGarbageBytes();
            onDisk += v.getSizeBytes() * v.getReplicasCount();
        }
        long free = status.getStoresList().stream().filter(s -> s.getState() == StoreState.STORE_LIVE)
                .mapToLong(StoreInfo::getFreeBytes).sum();
        out.printf("stores         %d (%d live)%n", status.getStoresCount(), report.liveStores());
        out.printf("volumes        %d (%d degraded)%n", status.getVolumesCount(), report.degradedVolumes().size());
        out.printf("bytes stored   %s (%s with replicas)%n", Bytes.human(stored), Bytes.human(onDisk));
        out.printf("garbage        %s%n", Bytes.human(garbage));
        out.printf("free space     %s (live stores)%n", Bytes.human(free));
        return 0;
    }
}
