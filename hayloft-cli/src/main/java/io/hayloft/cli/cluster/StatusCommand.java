package io.hayloft.cli.cluster;

import io.hayloft.cli.Bytes;
import io.hayloft.proto.v1.MetaPeer;
import io.hayloft.proto.v1.OrphanAuditStatus;
import io.hayloft.proto.v1.RepairStatus;
import io.hayloft.proto.v1.RepairTaskInfo;
import io.hayloft.proto.v1.StoreInfo;
import io.hayloft.proto.v1.VolumeInfo;
import java.io.PrintWriter;
import java.util.List;
import picocli.CommandLine.Command;

/** {@code hayloft status}: meta peers and leader, stores, volumes, and what is degraded. */
@Command(name = "status", description = "Show the meta peers and leader, the stores, the volumes and what is degraded.")
public final class StatusCommand extends ClusterCommand {
    @Override
    int run(ClusterReport report, PrintWriter out) {
        var status = report.status();
        out.printf("meta (%d peers, leader %s)%n", status.getPeersCount(),
                report.leader().map(MetaPeer::getPeerId).orElse("none"));
        for (MetaPeer p : status.getPeersList()) {
            out.printf("  %-10s %-22s %s%n", p.getPeerId(), p.getAddress(), p.getLeader() ? "leader" : "follower");
        }
        out.printf("stores (%d, %d live)%n", status.getStoresCount(), report.liveStores());
        for (StoreInfo s : status.getStoresList()) {
            out.printf("  %-10s %-22s %-5s free %s%s%n", s.getStoreId(), s.getAddress(),
                    ClusterReport.state(s.getState()), Bytes.human(s.getFreeBytes()),
                    s.getRack().isEmpty() ? "" : "  rack " + s.getRack());
        }
        out.printf("volumes (%d)%n", status.getVolumesCount());
        for (VolumeInfo v : status.getVolumesList()) {
            List<String> replicas = v.getReplicasList().stream().map(StoreInfo::getStoreId).toList();
            out.printf("  %-6d %-9s %d/%d replicas  size %-10s garbage %-10s on %s%n", v.getVolumeId(),
                    v.getFull() ? "full" : ClusterReport.state(v.getState()), v.getReplicasCount(), v.getReplicationFactor(),
                    Bytes.human(v.getSizeBytes()), Bytes.human(v.getGarbageBytes()), String.join(", ", replicas));
        }
        List<ClusterReport.Degraded> degraded = report.degradedVolumes();
        out.printf("degraded volumes (%d)%n", degraded.size());
        for (ClusterReport.Degraded d : degraded) {
            out.printf("  %-6d %s%n", d.volume().getVolumeId(), d.reason());
        }
        if (status.hasRepair()) {
            printRepair(status.getRepair(), out);
        }
        if (status.hasOrphans()) {
            OrphanAuditStatus o = status.getOrphans();
            out.printf("orphan audit (%s; %d audits, %d needles checked, %d found unnamed, %d deleted, %s freed%s)%n",
                    o.getState(), o.getAudits(), o.getNeedlesChecked(), o.getFound(), o.getDeleted(),
                    Bytes.human(o.getBytesDeleted()), o.getLastFinishedMs() == 0 ? ""
                            : "; last finished " + java.time.Instant.ofEpochMilli(o.getLastFinishedMs()));
        }
        return 0;
    }

    private static void printRepair(RepairStatus r, PrintWriter out) {
        out.printf("repair (%d queued, %d running, %d done, %d failed attempts; copied %s, %s left%s)%n",
                r.getQueued(), r.getRunning(), r.getDone(), r.getFailed(), Bytes.human(r.getBytesCopied()),
                Bytes.human(r.getBytesLeft()), timeLeft(r));
        for (RepairTaskInfo t : r.getTasksList()) {
            String where = t.getStoreId().isEmpty() ? ""
                    : t.getSourceStoreId().isEmpty() ? " on " + t.getStoreId()
                    : " " + t.getSourceStoreId() + " -> " + t.getStoreId();
            String bytes = t.getBytesTotal() == 0 && t.getBytesCopied() == 0 ? ""
                    : "  " + Bytes.human(t.getBytesCopied()) + " of " + Bytes.human(t.getBytesTotal());
            out.printf("  %-6d %-8s %-8s %d live%s%s%n", t.getVolumeId(), t.getKind(), t.getState(),
                    t.getLiveReplicas(), where, bytes);
        }
    }

    /** The time the copies left take at the recent rate, when there is one. */
    private static String timeLeft(RepairStatus r) {
        if (r.getBytesLeft() == 0 || r.getBytesPerSecond() == 0) {
            return "";
        }
        long seconds = Math.max(1, r.getBytesLeft() / r.getBytesPerSecond());
        return String.format(", about %s at %s/s", seconds < 120 ? seconds + " s" : (seconds / 60) + " min",
                Bytes.human(r.getBytesPerSecond()));
    }
}
