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

    /**
     * Tells the names that a PUT is storing its body and will put its name soon, so that names
     * gathered into batches can wait for it. The caller passes it to {@link #put(ObjectInfo,
     * Announcement)} and closes it once the name is put or will not be. By default nobody listens.
     */
    default Announcement announcePut() {
        return Announcement.NONE;
    }

    /** As {@link #put(ObjectInfo)}, for a PUT that announced its name with {@link #announcePut}. */
    default List<Chunk> put(ObjectInfo object, Announcement announcement) {
        return put(object);
    }

    /** A name on its way; see {@link #announcePut}. Closing it more than once does nothing more. */
    interface Announcement extends AutoCloseable {
        /** An announcement nobody listens to. */
        Announcement NONE = () -> {};

        @Override
        void close();
    }

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
