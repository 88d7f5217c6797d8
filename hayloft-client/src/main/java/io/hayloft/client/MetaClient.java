package io.hayloft.client;

import io.grpc.StatusRuntimeException;
import io.hayloft.proto.v1.AssignRequest;
import io.hayloft.proto.v1.AssignResponse;
import io.hayloft.proto.v1.BucketInfo;
import io.hayloft.proto.v1.ClusterStatusRequest;
import io.hayloft.proto.v1.ClusterStatusResponse;
import io.hayloft.proto.v1.CreateBucketRequest;
import io.hayloft.proto.v1.DeleteBucketRequest;
import io.hayloft.proto.v1.DeleteObjectRequest;
import io.hayloft.proto.v1.ErrorCode;
import io.hayloft.proto.v1.GetObjectRequest;
import io.hayloft.proto.v1.HeartbeatRequest;
import io.hayloft.proto.v1.HeartbeatResponse;
import io.hayloft.proto.v1.ListBucketsRequest;
import io.hayloft.proto.v1.ListObjectsRequest;
import io.hayloft.proto.v1.ListObjectsResponse;
import io.hayloft.proto.v1.LookupVolumeRequest;
import io.hayloft.proto.v1.MetaGrpc;
import io.hayloft.proto.v1.ObjectInfo;
import io.hayloft.proto.v1.PutObjectRequest;
import io.hayloft.proto.v1.RegisterStoreRequest;
import io.hayloft.proto.v1.RegisterStoreResponse;
import io.hayloft.proto.v1.ReportVolumeFailureRequest;
import io.hayloft.proto.v1.StoreInfo;
import io.hayloft.proto.v1.Chunk;
import io.hayloft.proto.v1.VolumeInfo;
import io.hayloft.proto.v1.AbortMultipartUploadRequest;
import io.hayloft.proto.v1.CompleteMultipartUploadRequest;
import io.hayloft.proto.v1.CompleteMultipartUploadResponse;
import io.hayloft.proto.v1.CreateMultipartUploadRequest;
import io.hayloft.proto.v1.ListMultipartUploadsRequest;
import io.hayloft.proto.v1.ListMultipartUploadsResponse;
import io.hayloft.proto.v1.ListPartsRequest;
import io.hayloft.proto.v1.ListPartsResponse;
import io.hayloft.proto.v1.PartInfo;
import io.hayloft.proto.v1.PutPartRequest;
import io.hayloft.proto.v1.UploadInfo;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Calls the meta group: finds its leader and follows it when it changes.
 *
 * <p>A call goes to the peer believed to lead. A follower answers NOT_LEADER, usually naming
 * the leader, and the call goes there at once; a peer that cannot be reached, or a group
 * without a leader (during an election), makes the call try the next peer after a short,
 * growing pause. After the retry budget the last error is thrown. Volume lookups may be
 * answered by any peer.
 */
public final class MetaClient implements AutoCloseable {
    private static final long BACKOFF_FIRST_MS = 20;
    private static final long BACKOFF_MAX_MS = 500;

    private final List<String> peers;
    private final Channels channels;
    private final long callTimeoutMs;
    private final long retryBudgetNanos;
    private volatile String leader;
    private final boolean ownsChannels;

    /** A client of its own, for callers that talk to meta only (stores, tools); close it when done. */
    public static MetaClient connect(List<String> peers) {
        return connect(ClientOptions.of(peers));
    }

    /** A client of its own with these options' meta addresses and timeouts; close it when done. */
    public static MetaClient connect(ClientOptions o) {
        return new MetaClient(o.metaAddresses(), new Channels(), o.metaCallTimeout(), o.metaRetryBudget(), true);
    }

    MetaClient(List<String> peers, Channels channels, Duration callTimeout, Duration retryBudget) {
        this(peers, channels, callTimeout, retryBudget, false);
    }

    private MetaClient(List<String> peers, Channels channels, Duration callTimeout, Duration retryBudget,
            boolean ownsChannels) {
        this.ownsChannels = ownsChannels;
        if (peers.isEmpty()) {
            throw new IllegalArgumentException("no meta peer addresses");
        }
        this.peers = List.copyOf(peers);
        this.channels = channels;
        this.callTimeoutMs = callTimeout.toMillis();
        this.retryBudgetNanos = retryBudget.toNanos();
        this.leader = this.peers.get(0);
    }

    /** The peer this client believes leads now. */
    public String leaderGuess() {
        return leader;
    }

    private <T> T call(Function<MetaGrpc.MetaBlockingStub, T> fn) {
        long deadline = System.nanoTime() + retryBudgetNanos;
        String target = leader;
        long backoff = BACKOFF_FIRST_MS;
        Set<String> tried = new HashSet<>();
        while (true) {
            try {
                T result = fn.apply(MetaGrpc.newBlockingStub(channels.get(target))
                        .withDeadlineAfter(callTimeoutMs, TimeUnit.MILLISECONDS));
                leader = target;
                return result;
            } catch (StatusRuntimeException e) {
                HayloftException h = HayloftException.from(e);
                boolean redirected = false;
                tried.add(target);
                String untried = peers.stream().filter(p -> !tried.contains(p)).findFirst().orElse(null);
                if (h.code() == ErrorCode.NOT_LEADER && !h.leaderAddress().isEmpty()
                        && !h.leaderAddress().equals(target)) {
                    // A client that reaches the peers through a proxy or a port mapping knows them by
                    // addresses of its own: the hint's address is followed when it is one of them, or
                    // when no configured address is left to try.
                    target = peers.contains(h.leaderAddress()) || untried == null ? h.leaderAddress() : untried;
                    redirected = true;
                } else if (h.code() == ErrorCode.NOT_LEADER || h.code() == ErrorCode.UNAVAILABLE) {
                    target = peers.get((peers.indexOf(target) + 1) % peers.size());
                } else {
                    throw h;
                }
                if (System.nanoTime() - deadline > 0) {
                    throw new HayloftException(ErrorCode.UNAVAILABLE, "no meta leader answered within "
                            + retryBudgetNanos / 1_000_000 + " ms; last: " + h.getMessage(), h);
                }
                if (!redirected) {
                    sleep(backoff);
                    backoff = Math.min(BACKOFF_MAX_MS, backoff * 2);
                }
            }
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HayloftException(ErrorCode.UNAVAILABLE, "interrupted");
        }
    }

    public RegisterStoreResponse registerStore(StoreInfo store) {
        return call(s -> s.registerStore(RegisterStoreRequest.newBuilder().setStore(store).build()));
    }

    public HeartbeatResponse heartbeat(HeartbeatRequest request) {
        return call(s -> s.heartbeat(request));
    }

    public void reportVolumeFailure(int volumeId, String storeId, String reason) {
        call(s -> s.reportVolumeFailure(ReportVolumeFailureRequest.newBuilder().setVolumeId(volumeId)
                .setStoreId(storeId).setReason(reason).build()));
    }

    public AssignResponse assign(int count, Iterable<Integer> excludedVolumes) {
        return call(s -> s.assign(AssignRequest.newBuilder().setCount(count).addAllExcludeVolumeIds(excludedVolumes)
                .build()));
    }

    public VolumeInfo lookupVolume(int volumeId) {
        List<VolumeInfo> found = call(s -> s.lookupVolume(LookupVolumeRequest.newBuilder().addVolumeIds(volumeId)
                .build())).getVolumesList();
        if (found.isEmpty()) {
            throw new HayloftException(ErrorCode.NO_SUCH_VOLUME, "no volume " + volumeId);
        }
        return found.get(0);
    }

    public void createBucket(String bucket) {
        call(s -> s.createBucket(CreateBucketRequest.newBuilder().setBucket(bucket).build()));
    }

    public void deleteBucket(String bucket) {
        call(s -> s.deleteBucket(DeleteBucketRequest.newBuilder().setBucket(bucket).build()));
    }

    public List<BucketInfo> listBuckets() {
        return call(s -> s.listBuckets(ListBucketsRequest.getDefaultInstance())).getBucketsList();
    }

    /** Names the object, replacing any object of that name; returns the chunks no longer named. */
    public List<Chunk> putObject(ObjectInfo object) {
        return call(s -> s.putObject(PutObjectRequest.newBuilder().setObject(object).build())).getReplacedList();
    }

    public ObjectInfo getObject(String bucket, String key) {
        return call(s -> s.getObject(GetObjectRequest.newBuilder().setBucket(bucket).setKey(key).build()))
                .getObject();
    }

    /** Removes the name; returns the chunks it named. */
    public List<Chunk> deleteObject(String bucket, String key) {
        return call(s -> s.deleteObject(DeleteObjectRequest.newBuilder().setBucket(bucket).setKey(key).build()))
                .getRemovedList();
    }

    public ListObjectsResponse listObjects(ListObjectsRequest request) {
        return call(s -> s.listObjects(request));
    }

    /**
     * Starts a multipart upload of the template's bucket and key; the template's content type,
     * user metadata and headers become the object's when the upload completes. A retry after a
     * lost answer may start a second upload, which lists like any other until it is aborted.
     */
    public UploadInfo createMultipartUpload(ObjectInfo template) {
        return call(s -> s.createMultipartUpload(CreateMultipartUploadRequest.newBuilder().setObject(template).build()))
                .getUpload();
    }

    /** Records a part of the upload; returns the chunks of an earlier part of that number, to be freed. */
    public List<Chunk> putPart(String bucket, String key, String uploadId, PartInfo part) {
        return call(s -> s.putPart(PutPartRequest.newBuilder().setBucket(bucket).setKey(key).setUploadId(uploadId)
                .setPart(part).build())).getReplacedList();
    }

    public ListPartsResponse listParts(ListPartsRequest request) {
        return call(s -> s.listParts(request));
    }

    public ListMultipartUploadsResponse listMultipartUploads(ListMultipartUploadsRequest request) {
        return call(s -> s.listMultipartUploads(request));
    }

    /**
     * Names the object made of the named parts and forgets the upload; the response holds the new
     * object and the chunks to free. A retry after the first try applied finds no upload
     * (NO_SUCH_UPLOAD), as in S3.
     */
    public CompleteMultipartUploadResponse completeMultipartUpload(CompleteMultipartUploadRequest request) {
        return call(s -> s.completeMultipartUpload(request));
    }

    /** Forgets the upload; returns its parts' chunks, to be freed. */
    public List<Chunk> abortMultipartUpload(String bucket, String key, String uploadId) {
        return call(s -> s.abortMultipartUpload(AbortMultipartUploadRequest.newBuilder().setBucket(bucket)
                .setKey(key).setUploadId(uploadId).build())).getFreedList();
    }

    public ClusterStatusResponse clusterStatus() {
        return call(s -> s.clusterStatus(ClusterStatusRequest.getDefaultInstance()));
    }

    @Override
    public void close() {
        if (ownsChannels) {
            channels.close();
        }
    }
}
