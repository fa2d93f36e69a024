#include "server/exchange.hpp"

#include <new>
#include <vector>

namespace spur::detail {

namespace {

// Freed Exchange blocks of this thread. A block freed on another thread than the one that
// made it (a connection's strand moved) simply joins that thread's list.
class FreeBlocks {
public:
    static constexpr std::size_t kept = 64;

    ~FreeBlocks() {
        for (void* block : blocks_) ::operator delete(block);
    }
    void* take() {
        if (blocks_.empty()) return ::operator new(sizeof(Exchange));
        void* block = blocks_.back();
        blocks_.pop_back();
        return block;
    }
    void give(void* block) noexcept {
        if (blocks_.size() < kept && blocks_.capacity() > blocks_.size()) {
            blocks_.push_back(block);
            return;
        }
        ::operator delete(block);
    }
    FreeBlocks() { blocks_.reserve(kept); }

private:
    std::vector<void*> blocks_;
};

FreeBlocks& free_blocks() {
    thread_local FreeBlocks blocks;
    return blocks;
}

void recycle(Exchange* exchange) {
    exchange->~Exchange();
    free_blocks().give(exchange);
}

}  // namespace

ExchangePtr Exchange::make() {
    void* block = free_blocks().take();
    try {
        return ExchangePtr(new (block) Exchange, &recycle);
    } catch (...) {
        free_blocks().give(block);
        throw;
    }
}

}  // namespace spur::detail
