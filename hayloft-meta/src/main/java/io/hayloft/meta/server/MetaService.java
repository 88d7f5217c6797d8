package io.hayloft.meta.server;

import io.grpc.stub.StreamObserver;
import io.hayloft.meta.MetaException;
import io.hayloft.meta.state.MetaQueries;
import io.hayloft.proto.WireErrors;
import io.hayloft.proto.v1.AbortMultipartUploadRequest;
import io.hayloft.proto.v1.AbortMultipartUploadResponse;
import io.hayloft.proto.v1.AssignCommand;
import io.hayloft.proto.v1.AssignRequest;
import io.hayloft.proto.v1.AssignResponse;
import io.hayloft.proto.v1.ClusterStatusRequest;
import io.hayloft.proto.v1.ClusterStatusResponse;
import io.hayloft.proto.v1.CompleteMultipartUploadRequest;
import io.hayloft.proto.v1.CompleteMultipartUploadResponse;
import io.hayloft.proto.v1.CreateBucketRequest;
import io.hayloft.proto.v1.CreateBucketResponse;
import io.hayloft.proto.v1.CreateMultipartUploadRequest;
import io.hayloft.proto.v1.CreateMultipartUploadResponse;
import io.hayloft.proto.v1.CreateUploadCommand;
import io.hayloft.proto.v1.DeleteBucketRequest;
import io.hayloft.proto.v1.DeleteBucketResponse;
import io.hayloft.proto.v1.DeleteObjectRequest;
import io.hayloft.proto.v1.DeleteObjectResponse;
import io.hayloft.proto.v1.Error;
import io.hayloft.proto.v1.ErrorCode;
import io.hayloft.proto.v1.GetObjectRequest;
import io.hayloft.proto.v1.GetObjectResponse;
import io.hayloft.proto.v1.HeartbeatRequest;
import io.hayloft.proto.v1.HeartbeatResponse;
import io.hayloft.proto.v1.ListBucketsRequest;
import io.hayloft.proto.v1.ListBucketsResponse;
import io.hayloft.proto.v1.ListMultipartUploadsRequest;
import io.hayloft.proto.v1.ListMultipartUploadsResponse;
import io.hayloft.proto.v1.ListObjectsRequest;
import io.hayloft.proto.v1.ListObjectsResponse;
import io.hayloft.proto.v1.ListPartsRequest;
import io.hayloft.proto.v1.ListPartsResponse;
import io.hayloft.proto.v1.LookupVolumeRequest;
import io.hayloft.proto.v1.LookupVolumeResponse;
import io.hayloft.proto.v1.MetaCommand;
import io.hayloft.proto.v1.MetaGrpc;
import io.hayloft.proto.v1.MetaPeer;
import io.hayloft.proto.v1.MetaQuery;
import io.hayloft.proto.v1.MetaQueryResult;
import io.hayloft.proto.v1.PutObjectRequest;
import io.hayloft.proto.v1.PutObjectResponse;
import io.hayloft.proto.v1.PutPartRequest;
import io.hayloft.proto.v1.PutPartResponse;
import io.hayloft.proto.v1.RegisterStoreRequest;
import io.hayloft.proto.v1.RegisterStoreResponse;
import io.hayloft.proto.v1.ReportVolumeFailureRequest;
import io.hayloft.proto.v1.ReportVolumeFailureResponse;
import io.hayloft.proto.v1.SetStoreStateCommand;
import io.hayloft.proto.v1.SetVolumeStateCommand;
import io.hayloft.proto.v1.StoreInfo;
import io.hayloft.proto.v1.StoreState;
import io.hayloft.proto.v1.VolumeInfo;
import io.hayloft.proto.v1.VolumeReport;
import io.hayloft.proto.v1.VolumeState;
import io.hayloft.meta.state.VolumeTable;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code Meta} gRPC service of one peer. Calls that change state or read names are served
 * by the leader only; elsewhere they fail with NOT_LEADER and the leader's address. Volume
 * lookups and the cluster status are served by any peer from its own state.
 */
final class MetaService extends MetaGrpc.MetaImplBase {
    private static final Logger log = LoggerFactory.getLogger(MetaService.class);

    private final MetaNode node;
    private final Liveness liveness;
    private final VolumeGrowth growth;
    private final RepairManager repairs;
    private final OrphanAudit orphans;
    private static final SecureRandom UPLOAD_IDS = new SecureRandom();

    private final AtomicInteger assignRotation = new AtomicInteger();

    MetaService(MetaNode node, Liveness liveness, VolumeGrowth growth, RepairManager repairs, OrphanAudit orphans) {
        this.node = node;
        this.liveness = liveness;
        this.growth = growth;
        this.repairs = repairs;
        this.orphans = orphans;
    }

    @FunctionalInterface
    private interface Call<T> {
        T run() throws MetaException;
    }

    private static <T> void answer(StreamObserver<T> out, Call<T> call) {
        T result;
        try {
            result = call.run();
        } catch (MetaException e) {
            out.onError(WireErrors.toStatus(Error.newBuilder().setCode(e.code()).setMessage(e.detail())
                    .setLeaderAddress(e.leaderAddress()).build()));
            return;
        } catch (RuntimeException e) {
            log.warn("meta call failed", e);
            out.onError(WireErrors.toStatus(ErrorCode.INTERNAL, String.valueOf(e)));
            return;
        }
        out.onNext(result);
        out.onCompleted();
    }

    private static MetaQueryResult checked(MetaQueryResult r) throws MetaException {
        if (r.hasError()) {
            throw new MetaException(r.getError().getCode(), r.getError().getMessage());
        }
        return r;
    }

    @Override
    public void registerStore(RegisterStoreRequest request, StreamObserver<RegisterStoreResponse> out) {
        answer(out, () -> {
            node.propose(MetaCommand.newBuilder().setRegisterStore(request));
            liveness.registered(request.getStore().getStoreId());
            log.info("store {} registered at {}", request.getStore().getStoreId(), request.getStore().getAddress());
            return RegisterStoreResponse.newBuilder()
                    .setHeartbeatIntervalMs((int) node.config().heartbeatInterval().toMillis()).build();
        });
    }

    @Override
    public void heartbeat(HeartbeatRequest request, StreamObserver<HeartbeatResponse> out) {
        answer(out, () -> {
            node.requireLeader();
            StoreInfo known = node.readLocal(s -> s.volumes().stores().stream()
                    .filter(st -> st.getStoreId().equals(request.getStoreId())).findFirst().orElse(null));
            if (known == null) {
                return HeartbeatResponse.newBuilder().setRegisterAgain(true).build();
            }
            liveness.beat(request);
            if (known.getState() != StoreState.STORE_LIVE) {
                log.info("store {} is back", request.getStoreId());
                node.propose(MetaCommand.newBuilder().setSetStoreState(SetStoreStateCommand.newBuilder()
                        .setStoreId(request.getStoreId()).setState(StoreState.STORE_LIVE)));
            }
            for (VolumeReport r : request.getVolumesList()) {
                if (r.getReadOnly()) {
                    markReadOnlyIfWritable(r.getVolumeId(), request.getStoreId(), "reports it read-only");
                }
            }
            return HeartbeatResponse.getDefaultInstance();
        });
    }

    /**
     * Makes a writable volume read-only when a store of its replica set says its replica is (or
     * failed a write). A store outside the set is not heard: its replica is one the set replaced
     * while it was away, sealed by an earlier repair, and is dropped or rejoins; taken as the
     * volume's, its seal would undo every catch-up of the volume as soon as it was done.
     */
    private void markReadOnlyIfWritable(int volumeId, String storeId, String why) throws MetaException {
        VolumeInfo v;
        try {
            v = node.readLocal(s -> s.volumes().volume(volumeId));
        } catch (MetaException e) {
            if (e.code() == ErrorCode.NO_SUCH_VOLUME) {
                return; // a replica whose creation meta never recorded
            }
            throw e;
        }
        if (v.getReplicasList().stream().noneMatch(r -> r.getStoreId().equals(storeId))) {
            return;
        }
        if (v.getState() == VolumeState.VOLUME_WRITABLE) {
            log.info("volume {} turns read-only: store {} {}", volumeId, storeId, why);
            node.propose(MetaCommand.newBuilder().setSetVolumeState(SetVolumeStateCommand.newBuilder()
                    .setVolumeId(volumeId).setState(VolumeState.VOLUME_READONLY)));
        }
    }

    @Override
    public void reportVolumeFailure(ReportVolumeFailureRequest request,
            StreamObserver<ReportVolumeFailureResponse> out) {
        answer(out, () -> {
            node.requireLeader();
            markReadOnlyIfWritable(request.getVolumeId(), request.getStoreId(), "failed it: " + request.getReason());
            return ReportVolumeFailureResponse.getDefaultInstance();
        });
    }

    @Override
    public void assign(AssignRequest request, StreamObserver<AssignResponse> out) {
        answer(out, () -> {
            if (request.getCount() < 1 || request.getCount() > VolumeTable.ASSIGN_COUNT_MAX) {
                throw new MetaException(ErrorCode.BAD_REQUEST, "count must be 1 to " + VolumeTable.ASSIGN_COUNT_MAX);
            }
            for (int attempt = 0; ; attempt++) {
                long seen = growth.generation();
                try {
                    return node.propose(MetaCommand.newBuilder().setAssign(AssignCommand.newBuilder()
                            .setRequest(request).setLeaseMs((int) node.config().assignLease().toMillis())
                            .addAllPreferredVolumeIds(preferredVolumes()))).getAssign();
                } catch (MetaException e) {
                    if (e.code() != ErrorCode.NO_WRITABLE_VOLUME || attempt >= 2) {
                        throw e;
                    }
                    growth.grow(seen);
                }
            }
        });
    }

    /** The writable volumes, rotated on every call so that callers spread over them. */
    private List<Integer> preferredVolumes() throws MetaException {
        List<Integer> ids = new ArrayList<>();
        for (VolumeInfo v : node.readLocal(s -> s.volumes().volumes())) {
            if (v.getState() == VolumeState.VOLUME_WRITABLE) {
                ids.add(v.getVolumeId());
            }
        }
        if (!ids.isEmpty()) {
            Collections.rotate(ids, assignRotation.getAndIncrement() % ids.size());
        }
        return ids;
    }

    @Override
    public void lookupVolume(LookupVolumeRequest request, StreamObserver<LookupVolumeResponse> out) {
        answer(out, () -> checked(node.readLocal(s -> MetaQueries.answer(s,
                MetaQuery.newBuilder().setLookupVolume(request).build()))).getVolumes());
    }

    @Override
    public void createBucket(CreateBucketRequest request, StreamObserver<CreateBucketResponse> out) {
        answer(out, () -> {
            node.propose(MetaCommand.newBuilder().setCreateBucket(request));
            return CreateBucketResponse.getDefaultInstance();
        });
    }

    @Override
    public void deleteBucket(DeleteBucketRequest request, StreamObserver<DeleteBucketResponse> out) {
        answer(out, () -> {
            node.propose(MetaCommand.newBuilder().setDeleteBucket(request));
            return DeleteBucketResponse.getDefaultInstance();
        });
    }

    @Override
    public void listBuckets(ListBucketsRequest request, StreamObserver<ListBucketsResponse> out) {
        answer(out, () -> checked(node.readLinearizable(MetaQuery.newBuilder().setListBuckets(request).build()))
                .getBuckets());
    }

    @Override
    public void putObject(PutObjectRequest request, StreamObserver<PutObjectResponse> out) {
        answer(out, () -> node.propose(MetaCommand.newBuilder().setPutObject(request)).getPutObject());
    }

    @Override
    public void getObject(GetObjectRequest request, StreamObserver<GetObjectResponse> out) {
        answer(out, () -> checked(node.readLinearizable(MetaQuery.newBuilder().setGetObject(request).build()))
                .getObject());
    }

    @Override
    public void deleteObject(DeleteObjectRequest request, StreamObserver<DeleteObjectResponse> out) {
        answer(out, () -> node.propose(MetaCommand.newBuilder().setDeleteObject(request)).getDeleteObject());
    }

    @Override
    public void listObjects(ListObjectsRequest request, StreamObserver<ListObjectsResponse> out) {
        answer(out, () -> checked(node.readLinearizable(MetaQuery.newBuilder().setListObjects(request).build()))
                .getListing());
    }

    @Override
    public void createMultipartUpload(CreateMultipartUploadRequest request,
            StreamObserver<CreateMultipartUploadResponse> out) {
        answer(out, () -> node.propose(MetaCommand.newBuilder().setCreateUpload(CreateUploadCommand.newBuilder()
                .setRequest(request).setUploadId(newUploadId()))).getCreateUpload());
    }

    /** 128 random bits in URL-safe base64 (22 characters): an upload id nobody can guess. */
    private static String newUploadId() {
        byte[] bits = new byte[16];
        UPLOAD_IDS.nextBytes(bits);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bits);
    }

    @Override
    public void putPart(PutPartRequest request, StreamObserver<PutPartResponse> out) {
        answer(out, () -> node.propose(MetaCommand.newBuilder().setPutPart(request)).getPutPart());
    }

    @Override
    public void listParts(ListPartsRequest request, StreamObserver<ListPartsResponse> out) {
        answer(out, () -> checked(node.readLinearizable(MetaQuery.newBuilder().setListParts(request).build()))
                .getParts());
    }

    @Override
    public void listMultipartUploads(ListMultipartUploadsRequest request,
            StreamObserver<ListMultipartUploadsResponse> out) {
        answer(out, () -> checked(node.readLinearizable(MetaQuery.newBuilder().setListUploads(request).build()))
                .getUploads());
    }

    @Override
    public void completeMultipartUpload(CompleteMultipartUploadRequest request,
            StreamObserver<CompleteMultipartUploadResponse> out) {
        answer(out, () -> node.propose(MetaCommand.newBuilder().setCompleteUpload(request)).getCompleteUpload());
    }

    @Override
    public void abortMultipartUpload(AbortMultipartUploadRequest request,
            StreamObserver<AbortMultipartUploadResponse> out) {
        answer(out, () -> node.propose(MetaCommand.newBuilder().setAbortUpload(request)).getAbortUpload());
    }

    @Override
    public void clusterStatus(ClusterStatusRequest request, StreamObserver<ClusterStatusResponse> out) {
        answer(out, () -> {
            ClusterStatusResponse.Builder r = ClusterStatusResponse.newBuilder();
            String leader = node.leaderAddress();
            for (MetaConfig.Peer p : node.config().peers()) {
                r.addPeers(MetaPeer.newBuilder().setPeerId(p.id()).setAddress(p.apiAddress())
                        .setLeader(p.apiAddress().equals(leader)));
            }
            for (StoreInfo s : node.readLocal(st -> st.volumes().stores())) {
                Long free = liveness.freeBytes(s.getStoreId());
                r.addStores(free == null ? s : s.toBuilder().setFreeBytes(free).build());
            }
            for (VolumeInfo v : node.readLocal(st -> {
                List<VolumeInfo> all = new ArrayList<>();
                for (VolumeInfo info : st.volumes().volumes()) {
                    all.add(st.volumes().volume(info.getVolumeId()));
                }
                return all;
            })) {
                VolumeReport report = liveness.latestReport(v.getVolumeId());
                r.addVolumes(report == null ? v : v.toBuilder().setSizeBytes(report.getSizeBytes())
                        .setGarbageBytes(report.getGarbageBytes()).setFull(report.getFull()).build());
            }
            if (node.isLeader()) {
                r.setRepair(repairs.status()).setOrphans(orphans.status());
            }
            return r.build();
        });
    }
}
