package io.hayloft.store;

import static io.hayloft.store.StoreTestSupport.WAIT_SECONDS;
import static io.hayloft.store.StoreTestSupport.bytes;
import static io.hayloft.store.StoreTestSupport.fid;
import static io.hayloft.store.StoreTestSupport.read;
import static io.hayloft.store.StoreTestSupport.write;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.hayloft.proto.v1.Fid;
import io.hayloft.volume.VolumeConfig;
import io.hayloft.volume.format.NeedleFormat;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A damaged needle is rewritten from the first replica whose copy fits it. */
class NeedleRepairsTest {
    @TempDir
    Path dir;

    private StoreFixture stores;

    @BeforeEach
    void setUp() throws Exception {
        stores = new StoreFixture(dir, VolumeConfig.defaults());
        for (String id : new String[] {"A", "B", "C"}) {
            stores.start(id, StoreConfig.defaults());
        }
        stores.createVolume(1, 42, "A", "B", "C");
    }

    @AfterEach
    void tearDown() throws Exception {
        stores.close();
    }

    /**
     * The first replica asked holds a tombstone as the needle's newest record where the damaged
     * one holds its data (replicas that differ, as a repair can meet them): its copy does not fit,
     * and the next replica's does.
     */
    @Test
    void aReplicaWhoseCopyDoesNotFitIsPassedOverForTheNext() throws Exception {
        byte[] data = bytes(7, 20_000);
        Fid fid = fid(7, 7);
        write(stores.async("A"), fid, data);
        stores.get("A").volumes().get(1).delete(fid.getNeedleId(), fid.getCookie());
        Path dat = dir.resolve("C").resolve("1.dat");
        try (FileChannel ch = FileChannel.open(dat, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            long at = NeedleFormat.SUPERBLOCK_BYTES + NeedleFormat.HEADER_BYTES + 1000;
            ByteBuffer b = ByteBuffer.allocate(1);
            ch.read(b, at);
            b.put(0, (byte) (b.get(0) ^ 0x5a));
            ch.write(b.flip(), at);
        }
        StoreServer damaged = stores.get("C");
        assertThat(damaged.scrubNow()).isEqualTo(1);
        await().atMost(Duration.ofSeconds(WAIT_SECONDS)).until(() -> damaged.needlesRepaired() == 1);
        assertThat(read(stores.blocking("C"), fid)).isEqualTo(data);
        assertThat(damaged.scrubNow()).isZero();
    }
}
