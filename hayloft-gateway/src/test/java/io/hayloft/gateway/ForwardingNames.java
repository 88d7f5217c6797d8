package io.hayloft.gateway;

import io.hayloft.proto.v1.Chunk;
import io.hayloft.proto.v1.ObjectInfo;
import java.util.List;

/** Names that pass every call on to other names: a test overrides the calls it watches. */
class ForwardingNames implements ObjectNames {
    protected final ObjectNames names;

    ForwardingNames(ObjectNames names) {
        this.names = names;
    }

    @Override
    public ObjectInfo get(String bucket, String key) {
        return names.get(bucket, key);
    }

    @Override
    public List<Chunk> put(ObjectInfo object) {
        return names.put(object);
    }

    @Override
    public Announcement announcePut() {
        return names.announcePut();
    }

    @Override
    public List<Chunk> put(ObjectInfo object, Announcement announcement) {
        return names.put(object, announcement);
    }
}
