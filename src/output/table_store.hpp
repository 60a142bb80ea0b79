// Where a table's rows wait until their columns' widths are known: rows written
// straight into blocks of memory that never move, each row its cells' sizes then
// their text. The sockets table holds one row per socket (100k rows are usual), so
// nothing here grows by copying: a growing buffer copied the whole table at every
// doubling, and at 20,000 sockets that copying and its page faults cost more than
// formatting the rows. Blocks are mapped populated (one fault per block, not one
// per page: page faults are slow on virtual machines).
// Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

namespace sockscope::output {

// One table cell's size in bytes and in terminal columns.
struct CellSize {
  std::uint32_t bytes;
  std::uint32_t width;
};

class TableStore {
 public:
  TableStore() = default;
  ~TableStore();
  TableStore(const TableStore&) = delete;
  TableStore& operator=(const TableStore&) = delete;

  // Calls fn(sizes, text) for every row of `cells` cells, in the order written.
  // REQUIRES: cells <= 64.
  template <class Fn>
  void each_row(std::size_t cells, Fn&& fn) const {
    for (const Block& b : blocks_) {
      const char* p = b.data;
      const char* end = b.data + b.used;
      while (p < end) {
        CellSize sizes[64];
        const std::size_t n = cells < 64 ? cells : 64;
        std::memcpy(sizes, p, n * sizeof(CellSize));
        const char* text = p + cells * sizeof(CellSize);
        std::size_t bytes = 0;
        for (std::size_t c = 0; c < n; ++c) bytes += sizes[c].bytes;
        fn(static_cast<const CellSize*>(sizes), text);
        p = text + bytes;
      }
    }
  }
  void clear();

 private:
  friend class TableRow;
  struct Block {
    char* data;
    std::size_t size;
    std::size_t used;
  };
  // Room for a row of `bytes` bytes at least; returns its start.
  char* begin_row(std::size_t bytes);
  // The row [row, cursor) moved to a block with `more` bytes of room after it.
  char* move_row(char* row, char* cursor, std::size_t more);
  void end_row(char* end) { blocks_.back().used = std::size_t(end - blocks_.back().data); }
  char* limit() const { return blocks_.back().data + blocks_.back().size; }

  std::vector<Block> blocks_;
};

// One row being written into a TableStore: cells one after the other, each closed
// by end_cell() (its display width measured; end_ascii_cell() when the writer knows
// the cell is ASCII), which also widens its column. Inline: this runs for every
// cell of tables with hundreds of thousands of rows.
class TableRow {
 public:
  TableRow(TableStore& store, std::size_t cells, std::size_t* widths, const std::string_view* usual,
           char* still_usual);
  ~TableRow() { store_.end_row(cursor_); }
  TableRow(const TableRow&) = delete;
  TableRow& operator=(const TableRow&) = delete;

  // Always inline: with a constant size the copy becomes a few stores, and a
  // call per piece was a fifth of the 20k-socket table's formatting.
  [[gnu::always_inline]] void put(std::string_view s) {
    if (s.size() > std::size_t(limit_ - cursor_)) grow(s.size());
    if (!s.empty()) std::memcpy(cursor_, s.data(), s.size());
    cursor_ += s.size();
  }
  // Room for `n` bytes to write directly; then wrote(k) with the k bytes used.
  char* room(std::size_t n) {
    if (n > std::size_t(limit_ - cursor_)) grow(n);
    return cursor_;
  }
  void wrote(std::size_t k) { cursor_ += k; }

  void end_cell();
  void end_ascii_cell() { finish(std::size_t(cursor_ - cell_)); }
  // The cell ends with a display width the writer measured itself.
  void end_cell_of_width(std::size_t width) { finish(width); }
  void cell(std::string_view s) {
    put(s);
    end_cell();
  }
  void ascii_cell(std::string_view s) {
    put(s);
    end_ascii_cell();
  }

 private:
  void grow(std::size_t more);
  void finish(std::size_t width) {
    const std::size_t c = col_++;
    const CellSize size{std::uint32_t(cursor_ - cell_), std::uint32_t(width)};
    std::memcpy(row_ + c * sizeof(CellSize), &size, sizeof size);
    if (width > widths_[c]) widths_[c] = width;
    if (still_usual_[c] && std::string_view(cell_, size.bytes) != usual_[c]) still_usual_[c] = 0;
    cell_ = cursor_;
  }
  TableStore& store_;
  std::size_t* widths_;
  const std::string_view* usual_;
  char* still_usual_;
  char* row_;     // the row's cell sizes, then its text
  char* cell_;    // the cell being written
  char* cursor_;  // where the next byte goes
  char* limit_;   // the block's end
  std::size_t col_ = 0;
};

}  // namespace sockscope::output
