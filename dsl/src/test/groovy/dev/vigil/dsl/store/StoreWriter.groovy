package dev.vigil.dsl.store

import java.nio.file.Path

/**
 * A second process writing to a store: {@code StoreWriter FILE NAME COUNT} adds COUNT revisions
 * of NAME and prints each number as it is reported saved.
 */
class StoreWriter {
    static void main(String[] args) {
        PolicyStore store = PolicyStore.open(Path.of(args[0]))
        try {
            int count = args[2] as int
            for (int i = 0; i < count; i++) {
                def r = store.add(args[1], "${args[1]} text ${i}\n", 'writer', "pid ${ProcessHandle.current().pid()}")
                System.out.println(r.number())
                System.out.flush()
            }
        } finally {
            store.close()
        }
    }
}
