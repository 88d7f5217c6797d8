package io.hayloft.meta.state;

import static org.assertj.core.api.Assertions.assertThat;

import io.hayloft.proto.v1.AbortMultipartUploadRequest;
import io.hayloft.proto.v1.AssignCommand;
import io.hayloft.proto.v1.AssignRequest;
import io.hayloft.proto.v1.Chunk;
import io.hayloft.proto.v1.CompleteMultipartUploadRequest;
import io.hayloft.proto.v1.CompletedPart;
import io.hayloft.proto.v1.CreateBucketRequest;
import io.hayloft.proto.v1.CreateMultipartUploadRequest;
import io.hayloft.proto.v1.CreateUploadCommand;
import io.hayloft.proto.v1.CreateVolumeCommand;
import io.hayloft.proto.v1.DeleteBucketRequest;
import io.hayloft.proto.v1.DeleteObjectRequest;
import io.hayloft.proto.v1.ErrorCode;
import io.hayloft.proto.v1.Fid;
import io.hayloft.proto.v1.MetaBatch;
import io.hayloft.proto.v1.MetaBatchResult;
import io.hayloft.proto.v1.MetaCommand;
import io.hayloft.proto.v1.ObjectInfo;
import io.hayloft.proto.v1.PartInfo;
import io.hayloft.proto.v1.PutObjectRequest;
import io.hayloft.proto.v1.PutPartRequest;
import io.hayloft.proto.v1.RegisterStoreRequest;
import io.hayloft.proto.v1.SetStoreStateCommand;
import io.hayloft.proto.v1.StoreInfo;
import io.hayloft.proto.v1.StoreState;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MetaApplierTest {
    @TempDir
    Path dir;

    /** Two peers that apply the same seeded random batches give the same results and end in the same state. */
    @Test
    void applyingIsDeterministic() throws Exception {
        long seed = System.nanoTime();
        List<MetaBatch> log = randomLog(new Random(seed));
        try (MetaDb a = MetaDb.open(dir.resolve("a")); MetaDb b = MetaDb.open(dir.resolve("b"))) {
            MetaApplier peerA = new MetaApplier(a);
            MetaApplier peerB = new MetaApplier(b);
            int errors = 0;
            for (MetaBatch batch : log) {
                MetaBatchResult ra = peerA.apply(batch);
                assertThat(peerB.apply(batch)).as("seed %d", seed).isEqualTo(ra);
                assertThat(ra.getResultsCount()).isEqualTo(batch.getCommandsCount());
                errors += (int) ra.getResultsList().stream().filter(r -> r.hasError()).count();
            }
            assertThat(errors).as("the random log exercises failing commands too").isPositive();
            assertThat(peerB.names().listBuckets()).isEqualTo(peerA.names().listBuckets());
            for (var bucket : peerA.names().listBuckets()) {
                assertThat(peerB.names().listObjects(bucket.getName(), "", "", "", 1000))
                        .isEqualTo(peerA.names().listObjects(bucket.getName(), "", "", "", 1000));
                assertThat(peerB.uploads().listUploads(bucket.getName(), "", "", "", "", 1000))
                        .isEqualTo(peerA.uploads().listUploads(bucket.getName(), "", "", "", "", 1000));
            }
            assertThat(peerB.volumes().volumes()).isEqualTo(peerA.volumes().volumes());
            assertThat(peerB.volumes().stores()).isEqualTo(peerA.volumes().stores());
        }
    }

    @Test
    void aFailingCommandDoesNotStopItsBatch() throws Exception {
        try (MetaDb db = MetaDb.open(dir)) {
            MetaBatchResult r = new MetaApplier(db).apply(MetaBatch.newBuilder()
                    .addCommands(MetaCommand.newBuilder().setDeleteBucket(DeleteBucketRequest.newBuilder().setBucket("nope")))
                    .addCommands(MetaCommand.newBuilder().setCreateBucket(CreateBucketRequest.newBuilder().setBucket("yes")))
                    .addCommands(MetaCommand.getDefaultInstance())
                    .build());
            assertThat(r.getResults(0).getError().getCode()).isEqualTo(ErrorCode.NO_SUCH_BUCKET);
            assertThat(r.getResults(1).getOk()).isTrue();
            assertThat(r.getResults(2).getError().getCode()).isEqualTo(ErrorCode.BAD_REQUEST);
        }
    }

    private static List<MetaBatch> randomLog(Random random) {
        List<MetaBatch> log = new ArrayList<>();
        String[] buckets = {"alpha", "beta", "gamma"};
        long time = 1_700_000_000_000L;
        for (int i = 0; i < 200; i++) {
            MetaBatch.Builder batch = MetaBatch.newBuilder();
            int n = 1 + random.nextInt(20);
            for (int j = 0; j < n; j++) {
                time += random.nextInt(1000);
                MetaCommand.Builder c = MetaCommand.newBuilder().setTimeMs(time);
                String bucket = buckets[random.nextInt(buckets.length)];
                String key = "k" + random.nextInt(40);
                String uploadId = "u" + random.nextInt(20);
                String uploadKey = "k" + random.nextInt(2);
                switch (random.nextInt(11)) {
                    case 0 -> c.setCreateBucket(CreateBucketRequest.newBuilder().setBucket(bucket));
                    case 1 -> c.setDeleteBucket(DeleteBucketRequest.newBuilder().setBucket(bucket));
                    case 2, 3, 4 -> c.setPutObject(PutObjectRequest.newBuilder().setObject(ObjectInfo.newBuilder()
                            .setBucket(bucket).setKey(key).setSize(random.nextInt(1000))
                            .addChunks(Chunk.newBuilder().setFid(Fid.newBuilder().setVolumeId(1)
                                    .setNeedleId(random.nextLong()).setCookie(random.nextInt())))));
                    case 5 -> c.setDeleteObject(DeleteObjectRequest.newBuilder().setBucket(bucket).setKey(key));
                    case 6 -> c.setRegisterStore(RegisterStoreRequest.newBuilder().setStore(StoreInfo.newBuilder()
                            .setStoreId("s" + random.nextInt(5)).setAddress("127.0.0.1:" + (7000 + random.nextInt(5)))
                            .setRack("r" + random.nextInt(3)).setFreeBytes(random.nextInt(1 << 20))));
                    case 7 -> c.setSetStoreState(SetStoreStateCommand.newBuilder().setStoreId("s" + random.nextInt(5))
                            .setState(random.nextBoolean() ? StoreState.STORE_LIVE : StoreState.STORE_DEAD));
                    case 9 -> c.setCreateUpload(CreateUploadCommand.newBuilder().setUploadId(uploadId)
                            .setRequest(CreateMultipartUploadRequest.newBuilder().setObject(ObjectInfo.newBuilder()
                                    .setBucket(bucket).setKey(uploadKey))));
                    case 10 -> {
                        switch (random.nextInt(4)) {
                            case 0, 1 -> c.setPutPart(PutPartRequest.newBuilder().setBucket(bucket).setKey(uploadKey)
                                    .setUploadId(uploadId).setPart(PartInfo.newBuilder()
                                            .setPartNumber(1 + random.nextInt(3)).setSize(random.nextInt(100))
                                            .setEtag(String.format("%032x", random.nextInt(4)))
                                            .addChunks(Chunk.newBuilder().setFid(Fid.newBuilder().setVolumeId(2)
                                                    .setNeedleId(random.nextLong())))));
                            case 2 -> c.setCompleteUpload(CompleteMultipartUploadRequest.newBuilder().setBucket(bucket)
                                    .setKey(uploadKey).setUploadId(uploadId).setMinPartSize(random.nextInt(100))
                                    .addParts(CompletedPart.newBuilder().setPartNumber(1)
                                            .setEtag(String.format("%032x", random.nextInt(4))))
                                    .addParts(CompletedPart.newBuilder().setPartNumber(2 + random.nextInt(2))
                                            .setEtag(String.format("%032x", random.nextInt(4)))));
                            default -> c.setAbortUpload(AbortMultipartUploadRequest.newBuilder().setBucket(bucket)
                                    .setKey(uploadKey).setUploadId(uploadId));
                        }
                    }
                    default -> {
                        if (random.nextBoolean()) {
                            c.setCreateVolume(CreateVolumeCommand.newBuilder().setReplicationFactor(1 + random.nextInt(3)));
                        } else {
                            c.setAssign(AssignCommand.newBuilder().setLeaseMs(30_000)
                                    .setRequest(AssignRequest.newBuilder().setCount(1 + random.nextInt(1000))));
                        }
                    }
                }
                batch.addCommands(c);
            }
            log.add(batch.build());
        }
        return log;
    }
}
