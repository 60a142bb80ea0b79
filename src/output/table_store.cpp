#include "output/table_store.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <new>

#include "output/text.hpp"

namespace sockscope::output {
namespace {

constexpr std::size_t kBlock = std::size_t(1) << 20;

char* map_block(std::size_t size) {
  void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  return static_cast<char*>(p);
}

}  // namespace

TableStore::~TableStore() { clear(); }

void TableStore::clear() {
  for (const Block& b : blocks_) ::munmap(b.data, b.size);
  blocks_.clear();
}

char* TableStore::begin_row(std::size_t bytes) {
  if (blocks_.empty() || blocks_.back().size - blocks_.back().used < bytes) {
    // The first block small: most tables are short.
    const std::size_t size = std::max(blocks_.empty() ? kBlock / 16 : kBlock, bytes);
    blocks_.push_back({map_block(size), size, 0});
  }
  return blocks_.back().data + blocks_.back().used;
}

char* TableStore::move_row(char* row, char* cursor, std::size_t more) {
  const std::size_t have = std::size_t(cursor - row);
  const std::size_t size = std::max(kBlock, (have + more) * 2);
  Block b{map_block(size), size, 0};
  std::memcpy(b.data, row, have);
  blocks_.push_back(b);
  return b.data + have;
}

TableRow::TableRow(TableStore& store, std::size_t cells, std::size_t* widths,
                   const std::string_view* usual, char* still_usual)
    : store_(store), widths_(widths), usual_(usual), still_usual_(still_usual) {
  const std::size_t head = cells * sizeof(CellSize);
  row_ = store_.begin_row(head + 256);
  cell_ = cursor_ = row_ + head;
  limit_ = store_.limit();
}

void TableRow::end_cell() {
  finish(display_width(std::string_view(cell_, std::size_t(cursor_ - cell_))));
}

void TableRow::grow(std::size_t more) {
  // The block left behind keeps its used size: the rows before this one.
  char* moved = store_.move_row(row_, cursor_, more);
  const std::size_t cell_at = std::size_t(cell_ - row_), have = std::size_t(cursor_ - row_);
  row_ = moved - have;
  cell_ = row_ + cell_at;
  cursor_ = moved;
  limit_ = store_.limit();
}

}  // namespace sockscope::output
