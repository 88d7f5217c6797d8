package io.hayloft.gateway;

import io.hayloft.client.MetaClient;
import io.hayloft.proto.v1.Chunk;
import io.hayloft.proto.v1.ObjectInfo;
import java.util.List;

/**
 * Where the gateway reads and swaps object names on the hot path (GET, HEAD, PUT). By default
 * that is meta over gRPC; the one-process server passes the meta peer that runs beside the
 * gateway, which saves an RPC per request. Failures are {@code HayloftException}s either way.
 */
public interface ObjectNames {
    /** The object under the name (linearizable), or NO_SUCH_KEY / NO_SUCH_BUCKET. */
    ObjectInfo get(String bucket, String key);

    /** Swaps the name to the object; returns the chunks of the object it replaced. */
    List<Chunk> put(ObjectInfo object);

    /** Names kept by meta, reached through the client's leader-following RPCs. */
    static ObjectNames remote(MetaClient meta) {
        return new ObjectNames() {
            @Override
            public ObjectInfo get(String bucket, String key) {
                return meta.getObject(bucket, key);
            }

            @Override
            public List<Chunk> put(ObjectInfo object) {
                return meta.putObject(object);
            }
        };
    }
}
