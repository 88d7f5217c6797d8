package io.hayloft.meta.state;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.hayloft.meta.MetaException;
import io.hayloft.proto.v1.AssignResponse;
import io.hayloft.proto.v1.ErrorCode;
import io.hayloft.proto.v1.StoreInfo;
import io.hayloft.proto.v1.StoreState;
import io.hayloft.proto.v1.VolumeInfo;
import io.hayloft.proto.v1.VolumeState;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VolumeTableTest {
    @TempDir
    Path dir;

    private MetaDb db;
    private VolumeTable table;

    @BeforeEach
    void open() throws MetaException {
        db = MetaDb.open(dir);
        table = new VolumeTable(db);
    }

    @AfterEach
    void close() {
        db.close();
    }

    private void store(String id, String rack) throws MetaException {
        table.registerStore(StoreInfo.newBuilder().setStoreId(id).setAddress("127.0.0.1:" + (7000 + id.hashCode() % 100))
                .setRack(rack).setCapacityBytes(1L << 40).setFreeBytes(1L << 40).build());
    }

    private static void assertCode(ErrorCode code, ThrowingCallable call) {
        assertThatThrownBy(call).isInstanceOf(MetaException.class)
                .satisfies(e -> assertThat(((MetaException) e).code()).isEqualTo(code));
    }

    @Test
    void placementSpreadsOverStoresAndRacks() throws Exception {
        store("s1", "r1");
        store("s2", "r1");
        store("s3", "r2");
        store("s4", "r3");
        Map<String, Integer> load = new HashMap<>();
        for (int i = 0; i < 8; i++) {
            VolumeInfo v = table.createVolume(3);
            assertThat(v.getVolumeId()).isEqualTo(i + 1);
            Set<String> ids = new HashSet<>();
            Set<String> racks = new HashSet<>();
            for (StoreInfo r : v.getReplicasList()) {
                ids.add(r.getStoreId());
                racks.add(r.getRack());
                assertThat(r.getAddress()).isNotEmpty();
                load.merge(r.getStoreId(), 1, Integer::sum);
            }
            assertThat(ids).hasSize(3);
            assertThat(racks).as("three racks exist, so three are used").hasSize(3);
        }
        // r2 and r3 have one store each, so they carry every volume; r1's two stores share theirs.
        assertThat(load).containsEntry("s3", 8).containsEntry("s4", 8);
        assertThat(load.get("s1") + load.get("s2")).isEqualTo(8);
        assertThat(Math.abs(load.get("s1") - load.get("s2"))).isLessThanOrEqualTo(1);
    }

    @Test
    void deadStoresGetNoVolumesAndNoAssignments() throws Exception {
        store("a", "");
        store("b", "");
        store("c", "");
        VolumeInfo v = table.createVolume(3);
        table.setStoreState("c", StoreState.STORE_DEAD);
        assertCode(ErrorCode.UNAVAILABLE, () -> table.createVolume(3));
        assertCode(ErrorCode.NO_WRITABLE_VOLUME, () -> table.assign(10, Set.of(), 30_000));
        // Its volume is degraded: even with the store back, nothing is assigned to it until the
        // replication manager has caught its replicas up and made it writable.
        assertThat(table.volume(v.getVolumeId()).getState()).isEqualTo(VolumeState.VOLUME_DEGRADED);
        table.registerStore(table.store("c"));
        assertCode(ErrorCode.NO_WRITABLE_VOLUME, () -> table.assign(10, Set.of(), 30_000));
        table.setVolumeState(v.getVolumeId(), VolumeState.VOLUME_WRITABLE);
        AssignResponse a = table.assign(10, Set.of(), 30_000);
        assertThat(a.getVolume().getVolumeId()).isEqualTo(v.getVolumeId());
        assertCode(ErrorCode.NO_WRITABLE_VOLUME, () -> table.assign(10, Set.of(v.getVolumeId()), 30_000));
        table.setVolumeState(v.getVolumeId(), VolumeState.VOLUME_READONLY);
        assertCode(ErrorCode.NO_WRITABLE_VOLUME, () -> table.assign(10, Set.of(), 30_000));
    }

    @Test
    void aSuspectStoresVolumesAreNotAssignedButStayAsTheyAre() throws Exception {
        store("a", "");
        store("b", "");
        store("c", "");
        VolumeInfo v = table.createVolume(3);
        table.setStoreState("b", StoreState.STORE_SUSPECT);
        assertCode(ErrorCode.NO_WRITABLE_VOLUME, () -> table.assign(10, Set.of(), 30_000));
        assertThat(table.volume(v.getVolumeId()).getState()).isEqualTo(VolumeState.VOLUME_WRITABLE);
        table.setStoreState("b", StoreState.STORE_LIVE);
        assertThat(table.assign(10, Set.of(), 30_000).getVolume().getVolumeId()).isEqualTo(v.getVolumeId());
    }

    @Test
    void aRepairReplacesTheReplicaSetOnlyWhenItIsStillTheOneItStartedFrom() throws Exception {
        store("a", "");
        store("b", "");
        store("c", "");
        store("d", "");
        VolumeInfo v = table.createVolume(3);
        List<String> before = v.getReplicasList().stream().map(StoreInfo::getStoreId).toList();
        String lost = before.get(0);
        String spare = List.of("a", "b", "c", "d").stream().filter(id -> !before.contains(id)).findFirst().orElseThrow();
        List<String> after = new ArrayList<>(before.subList(1, 3));
        after.add(spare);

        assertCode(ErrorCode.BAD_REQUEST, () -> table.setVolumeReplicas(v.getVolumeId(), after, after,
                VolumeState.VOLUME_DEGRADED));
        assertCode(ErrorCode.NO_SUCH_STORE, () -> table.setVolumeReplicas(v.getVolumeId(), before,
                List.of(before.get(1), before.get(2), "nobody"), VolumeState.VOLUME_DEGRADED));
        assertCode(ErrorCode.BAD_REQUEST, () -> table.setVolumeReplicas(v.getVolumeId(), before,
                List.of(spare, spare), VolumeState.VOLUME_DEGRADED));
        assertCode(ErrorCode.NO_SUCH_VOLUME, () -> table.setVolumeReplicas(999, before, after,
                VolumeState.VOLUME_DEGRADED));

        table.setStoreState(lost, StoreState.STORE_DEAD);
        table.setVolumeReplicas(v.getVolumeId(), before, after, VolumeState.VOLUME_WRITABLE);
        VolumeInfo repaired = table.volume(v.getVolumeId());
        assertThat(repaired.getReplicasList()).extracting(StoreInfo::getStoreId).containsExactlyElementsOf(after);
        assertThat(repaired.getState()).isEqualTo(VolumeState.VOLUME_WRITABLE);
        assertThat(table.assign(10, Set.of(), 30_000).getVolume().getVolumeId()).isEqualTo(v.getVolumeId());
    }

    @Test
    void assignmentsLeaseDisjointBlocksThatSurviveAReopen() throws Exception {
        store("a", "");
        table.createVolume(1);
        AssignResponse first = table.assign(1000, Set.of(), 30_000);
        AssignResponse second = table.assign(5, Set.of(), 30_000);
        assertThat(first.getFirstNeedleId()).isEqualTo(1);
        assertThat(second.getFirstNeedleId()).isEqualTo(1001);
        db.close();
        db = MetaDb.open(dir);
        table = new VolumeTable(db);
        assertThat(table.assign(1, Set.of(), 30_000).getFirstNeedleId()).isEqualTo(1006);
        assertThat(table.createVolume(1).getVolumeId()).isEqualTo(2);
        assertCode(ErrorCode.BAD_REQUEST, () -> table.assign(0, Set.of(), 1));
        assertCode(ErrorCode.NO_SUCH_VOLUME, () -> table.volume(99));
        assertCode(ErrorCode.NO_SUCH_STORE, () -> table.store("zz"));
        assertCode(ErrorCode.BAD_REQUEST, () -> table.registerStore(StoreInfo.newBuilder().setStoreId("x").build()));
    }
}
