package io.hayloft.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.hayloft.proto.v1.CreateVolumeRequest;
import io.hayloft.proto.v1.StoreInfo;
import java.io.IOException;
import java.util.Arrays;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class ReplicaSetFileTest {
    private static final CreateVolumeRequest REQUEST = CreateVolumeRequest.newBuilder().setVolumeId(7)
            .setSalt(0x0123456789ABCDEFL)
            .addReplicas(StoreInfo.newBuilder().setStoreId("a").setAddress("h:1"))
            .addReplicas(StoreInfo.newBuilder().setStoreId("b").setAddress("h:2"))
            .build();

    /** Pins format version 1 (docs/formats.md); the CRC was computed apart from this code. */
    private static final String GOLDEN = "484c5253" + "0001" + "0000" + "00000007" + "0000001f"
            + "0807" + "11efcdab8967452301"
            + "1a080a01611203683a31" + "1a080a01621203683a32"
            + "12aae8d6";

    @Test
    void goldenVector() throws IOException {
        assertThat(HexFormat.of().formatHex(ReplicaSetFile.encode(REQUEST))).isEqualTo(GOLDEN);
        assertThat(ReplicaSetFile.decode(7, HexFormat.of().parseHex(GOLDEN))).isEqualTo(REQUEST);
    }

    @Test
    void anEmptyReplicaSetRoundTrips() throws IOException {
        CreateVolumeRequest alone = CreateVolumeRequest.newBuilder().setVolumeId(1).build();
        assertThat(ReplicaSetFile.decode(1, ReplicaSetFile.encode(alone))).isEqualTo(alone);
    }

    @Test
    void everyFlippedBitIsCaught() {
        byte[] good = ReplicaSetFile.encode(REQUEST);
        for (int i = 0; i < good.length; i++) {
            for (int bit = 0; bit < 8; bit++) {
                byte[] bad = good.clone();
                bad[i] ^= (byte) (1 << bit);
                int at = i;
                assertThatThrownBy(() -> ReplicaSetFile.decode(7, bad)).as("byte %d bit %d", at, bit)
                        .isInstanceOf(IOException.class);
            }
        }
    }

    @Test
    void everyTruncationAndAnExtraByteAreCaught() {
        byte[] good = ReplicaSetFile.encode(REQUEST);
        for (int n = 0; n < good.length; n++) {
            byte[] cut = Arrays.copyOf(good, n);
            assertThatThrownBy(() -> ReplicaSetFile.decode(7, cut)).as("%d bytes", n).isInstanceOf(IOException.class);
        }
        byte[] longer = Arrays.copyOf(good, good.length + 1);
        assertThatThrownBy(() -> ReplicaSetFile.decode(7, longer)).isInstanceOf(IOException.class);
    }

    @Test
    void aFileUnderAnotherVolumesNameIsCaught() {
        byte[] good = ReplicaSetFile.encode(REQUEST);
        assertThatThrownBy(() -> ReplicaSetFile.decode(8, good)).isInstanceOf(IOException.class)
                .hasMessageContaining("belongs to volume 7");
    }
}
