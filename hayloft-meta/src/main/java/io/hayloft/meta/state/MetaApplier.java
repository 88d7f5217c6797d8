package io.hayloft.meta.state;

import io.hayloft.meta.MetaException;
import io.hayloft.proto.v1.AbortMultipartUploadRequest;
import io.hayloft.proto.v1.AbortMultipartUploadResponse;
import io.hayloft.proto.v1.CompleteMultipartUploadRequest;
import io.hayloft.proto.v1.CreateMultipartUploadResponse;
import io.hayloft.proto.v1.DeleteObjectResponse;
import io.hayloft.proto.v1.Error;
import io.hayloft.proto.v1.MetaBatch;
import io.hayloft.proto.v1.MetaBatchResult;
import io.hayloft.proto.v1.MetaCommand;
import io.hayloft.proto.v1.MetaResult;
import io.hayloft.proto.v1.PutObjectResponse;
import io.hayloft.proto.v1.PutPartRequest;
import io.hayloft.proto.v1.PutPartResponse;
import io.hayloft.proto.v1.SetVolumeReplicasCommand;
import io.hayloft.proto.v1.VolumeState;
import java.util.HashSet;

/**
 * Applies batches of meta commands to the state tables: the body of the Raft state machine's
 * apply.
 *
 * <p>Every peer applies the same batches in the same order and must end in the same state, so
 * applying is deterministic (the tables read no clock; a command brings the leader's time), and a
 * command that fails (a bad name, a missing bucket) becomes an error result for its caller while
 * the batch and the server go on.
 */
public final class MetaApplier {
    private final NameTable names;
    private final UploadTable uploads;
    private final VolumeTable volumes;

    public MetaApplier(MetaDb db) {
        this.names = new NameTable(db);
        this.uploads = new UploadTable(db, names);
        this.volumes = new VolumeTable(db);
    }

    public NameTable names() {
        return names;
    }

    public UploadTable uploads() {
        return uploads;
    }

    public VolumeTable volumes() {
        return volumes;
    }

    public MetaBatchResult apply(MetaBatch batch) {
        MetaBatchResult.Builder out = MetaBatchResult.newBuilder();
        for (MetaCommand command : batch.getCommandsList()) {
            out.addResults(apply(command));
        }
        return out.build();
    }

    private MetaResult apply(MetaCommand c) {
        MetaResult.Builder r = MetaResult.newBuilder();
        try {
            switch (c.getCommandCase()) {
                case CREATE_BUCKET -> {
                    names.createBucket(c.getCreateBucket().getBucket(), c.getTimeMs());
                    r.setOk(true);
                }
                case DELETE_BUCKET -> {
                    names.deleteBucket(c.getDeleteBucket().getBucket());
                    r.setOk(true);
                }
                case PUT_OBJECT -> r.setPutObject(PutObjectResponse.newBuilder()
                        .addAllReplaced(names.putObject(c.getPutObject().getObject().toBuilder()
                                .setModifiedMs(c.getTimeMs()).build())));
                case DELETE_OBJECT -> r.setDeleteObject(DeleteObjectResponse.newBuilder()
                        .addAllRemoved(names.deleteObject(c.getDeleteObject().getBucket(), c.getDeleteObject().getKey())));
                case CREATE_UPLOAD -> r.setCreateUpload(CreateMultipartUploadResponse.newBuilder()
                        .setUpload(uploads.create(c.getCreateUpload().getRequest().getObject(),
                                c.getCreateUpload().getUploadId(), c.getTimeMs())));
                case PUT_PART -> {
                    PutPartRequest p = c.getPutPart();
                    r.setPutPart(PutPartResponse.newBuilder().addAllReplaced(
                            uploads.putPart(p.getBucket(), p.getKey(), p.getUploadId(), p.getPart(), c.getTimeMs())));
                }
                case COMPLETE_UPLOAD -> {
                    CompleteMultipartUploadRequest u = c.getCompleteUpload();
                    r.setCompleteUpload(uploads.complete(u.getBucket(), u.getKey(), u.getUploadId(), u.getPartsList(),
                            u.getMinPartSize(), c.getTimeMs()));
                }
                case ABORT_UPLOAD -> {
                    AbortMultipartUploadRequest u = c.getAbortUpload();
                    r.setAbortUpload(AbortMultipartUploadResponse.newBuilder()
                            .addAllFreed(uploads.abort(u.getBucket(), u.getKey(), u.getUploadId())));
                }
                case REGISTER_STORE -> {
                    volumes.registerStore(c.getRegisterStore().getStore());
                    r.setOk(true);
                }
                case SET_STORE_STATE -> {
                    volumes.setStoreState(c.getSetStoreState().getStoreId(), c.getSetStoreState().getState());
                    r.setOk(true);
                }
                case CREATE_VOLUME -> r.setVolume(volumes.createVolume(c.getCreateVolume().getReplicationFactor(),
                        c.getCreateVolume().getState() == VolumeState.VOLUME_STATE_UNSPECIFIED
                                ? VolumeState.VOLUME_WRITABLE : c.getCreateVolume().getState()));
                case ASSIGN -> r.setAssign(volumes.assign(c.getAssign().getRequest().getCount(),
                        new HashSet<>(c.getAssign().getRequest().getExcludeVolumeIdsList()), c.getAssign().getLeaseMs(),
                        c.getAssign().getPreferredVolumeIdsList()));
                case SET_VOLUME_STATE -> {
                    volumes.setVolumeState(c.getSetVolumeState().getVolumeId(), c.getSetVolumeState().getState());
                    r.setOk(true);
                }
                case SET_VOLUME_REPLICAS -> {
                    SetVolumeReplicasCommand set = c.getSetVolumeReplicas();
                    volumes.setVolumeReplicas(set.getVolumeId(), set.getExpectedStoreIdsList(), set.getStoreIdsList(),
                            set.getState());
                    r.setOk(true);
                }
                case COMMAND_NOT_SET -> throw new MetaException(io.hayloft.proto.v1.ErrorCode.BAD_REQUEST, "empty command");
            }
        } catch (MetaException e) {
            r.setError(Error.newBuilder().setCode(e.code()).setMessage(e.detail()));
        }
        return r.build();
    }
}
