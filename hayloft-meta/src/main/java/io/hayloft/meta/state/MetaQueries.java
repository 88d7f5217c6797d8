package io.hayloft.meta.state;

import io.hayloft.meta.MetaException;
import io.hayloft.proto.v1.Error;
import io.hayloft.proto.v1.ErrorCode;
import io.hayloft.proto.v1.GetObjectResponse;
import io.hayloft.proto.v1.ListBucketsResponse;
import io.hayloft.proto.v1.ListMultipartUploadsRequest;
import io.hayloft.proto.v1.ListObjectsRequest;
import io.hayloft.proto.v1.ListPartsRequest;
import io.hayloft.proto.v1.LookupVolumeResponse;
import io.hayloft.proto.v1.MetaQuery;
import io.hayloft.proto.v1.MetaQueryResult;

/** Answers read-only queries from the state tables. */
public final class MetaQueries {
    private MetaQueries() {}

    public static MetaQueryResult answer(MetaApplier state, MetaQuery q) {
        MetaQueryResult.Builder r = MetaQueryResult.newBuilder();
        try {
            switch (q.getQueryCase()) {
                case GET_OBJECT -> r.setObject(GetObjectResponse.newBuilder()
                        .setObject(state.names().getObject(q.getGetObject().getBucket(), q.getGetObject().getKey())));
                case LIST_OBJECTS -> {
                    ListObjectsRequest l = q.getListObjects();
                    r.setListing(state.names().listObjects(l.getBucket(), l.getPrefix(), l.getDelimiter(),
                            l.getStartAfter(), l.getLimit() == 0 ? 1000 : l.getLimit()));
                }
                case LIST_PARTS -> {
                    ListPartsRequest l = q.getListParts();
                    r.setParts(state.uploads().listParts(l.getBucket(), l.getKey(), l.getUploadId(),
                            l.getPartNumberMarker(), l.getLimit() == 0 ? 1000 : l.getLimit()));
                }
                case LIST_UPLOADS -> {
                    ListMultipartUploadsRequest l = q.getListUploads();
                    r.setUploads(state.uploads().listUploads(l.getBucket(), l.getPrefix(), l.getDelimiter(),
                            l.getKeyMarker(), l.getUploadIdMarker(), l.getLimit() == 0 ? 1000 : l.getLimit()));
                }
                case LIST_BUCKETS -> r.setBuckets(ListBucketsResponse.newBuilder()
                        .addAllBuckets(state.names().listBuckets()));
                case LOOKUP_VOLUME -> {
                    LookupVolumeResponse.Builder v = LookupVolumeResponse.newBuilder();
                    for (int id : q.getLookupVolume().getVolumeIdsList()) {
                        v.addVolumes(state.volumes().volume(id));
                    }
                    r.setVolumes(v);
                }
                case QUERY_NOT_SET -> throw new MetaException(ErrorCode.BAD_REQUEST, "empty query");
            }
        } catch (MetaException e) {
            r.setError(Error.newBuilder().setCode(e.code()).setMessage(e.detail()));
        }
        return r.build();
    }
}
