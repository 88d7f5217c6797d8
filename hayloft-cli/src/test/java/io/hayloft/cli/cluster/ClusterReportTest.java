package io.hayloft.cli.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.hayloft.proto.v1.ClusterStatusResponse;
import io.hayloft.proto.v1.MetaPeer;
import io.hayloft.proto.v1.StoreInfo;
import io.hayloft.proto.v1.StoreState;
import io.hayloft.proto.v1.VolumeInfo;
import io.hayloft.proto.v1.VolumeState;
import org.junit.jupiter.api.Test;

/** What the health report counts as a problem. */
class ClusterReportTest {
    private static VolumeInfo volume(int id, VolumeState state, boolean full) {
        VolumeInfo.Builder v = VolumeInfo.newBuilder().setVolumeId(id).setState(state).setFull(full)
                .setReplicationFactor(3);
        for (String s : new String[] {"s0", "s1", "s2"}) {
            v.addReplicas(StoreInfo.newBuilder().setStoreId(s));
        }
        return v.build();
    }

    @Test
    void aFullVolumeIsHealthyAndOneSealedByAFailedWriteIsNot() {
        ClusterStatusResponse.Builder status = ClusterStatusResponse.newBuilder()
                .addPeers(MetaPeer.newBuilder().setPeerId("m0").setLeader(true));
        for (String s : new String[] {"s0", "s1", "s2"}) {
            status.addStores(StoreInfo.newBuilder().setStoreId(s).setState(StoreState.STORE_LIVE));
        }
        status.addVolumes(volume(1, VolumeState.VOLUME_WRITABLE, false))
                .addVolumes(volume(2, VolumeState.VOLUME_READONLY, true));
        assertThat(new ClusterReport(status.build()).problems()).isEmpty();

        status.addVolumes(volume(3, VolumeState.VOLUME_READONLY, false))
                .addVolumes(volume(4, VolumeState.VOLUME_DEGRADED, false));
        assertThat(new ClusterReport(status.build()).problems()).containsExactly(
                "volume 3: read-only after a failed write (repair catches its replicas up)", "volume 4: degraded");
    }
}
