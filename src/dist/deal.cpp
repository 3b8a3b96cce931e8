#include "dist/deal.hpp"

#include <algorithm>
#include <cstring>
#include <functional>
#include <queue>
#include <tuple>
#include <utility>

namespace ccopy::dist {
namespace {

constexpr char kMagic[] = "ccopy-dirs2";

void put_number(std::string& out, std::uint64_t value) {
  char bytes[8];
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>((value >> (8 * i)) & 0xff);
  out.append(bytes, 8);
}

void put_text(std::string& out, const std::string& text) {
  put_number(out, text.size());
  out += text;
}

class Reader {
 public:
  explicit Reader(const std::string& bytes) : bytes_(bytes) {}
  bool number(std::uint64_t& value) {
    if (bytes_.size() - at_ < 8) return false;
    value = 0;
    for (int i = 0; i < 8; ++i)
      value |= static_cast<std::uint64_t>(
                   static_cast<unsigned char>(bytes_[at_ + static_cast<std::size_t>(i)]))
               << (8 * i);
    at_ += 8;
    return true;
  }
  bool text(std::string& value) {
    std::uint64_t size = 0;
    if (!number(size) || bytes_.size() - at_ < size) return false;
    value.assign(bytes_, at_, size);
    at_ += size;
    return true;
  }
  [[nodiscard]] bool at_end() const { return at_ == bytes_.size(); }

 private:
  const std::string& bytes_;
  std::size_t at_ = 0;
};

bool before(const SharedDirectory& a, const SharedDirectory& b) {
  return std::tie(a.root, a.path) < std::tie(b.root, b.path);
}

}  // namespace

std::uint64_t dealt_entries(const std::vector<SharedDirectory>& directories) {
  std::uint64_t sum = 0;
  for (const SharedDirectory& d : directories) sum += d.entries + 1;
  return sum;
}

std::vector<std::vector<SharedDirectory>> deal_directories(std::vector<SharedDirectory> directories,
                                                           unsigned ranks) {
  std::vector<std::vector<SharedDirectory>> dealt(std::max(ranks, 1u));
  std::sort(directories.begin(), directories.end(),
            [](const SharedDirectory& a, const SharedDirectory& b) {
              if (a.entries != b.entries) return a.entries > b.entries;
              return before(a, b);
            });
  // The least loaded rank on top: (entries so far, rank).
  using Load = std::pair<std::uint64_t, unsigned>;
  std::priority_queue<Load, std::vector<Load>, std::greater<>> loads;
  for (unsigned r = 0; r < dealt.size(); ++r) loads.emplace(0, r);
  for (SharedDirectory& d : directories) {
    const auto [load, rank] = loads.top();
    loads.pop();
    loads.emplace(load + d.entries + 1, rank);
    dealt[rank].push_back(std::move(d));
  }
  return dealt;
}

std::vector<SharedDirectory> group_names(std::vector<SharedDirectory> names) {
  std::sort(names.begin(), names.end(), before);
  std::vector<SharedDirectory> grouped;
  for (SharedDirectory& n : names) {
    if (grouped.empty() || grouped.back().root != n.root || grouped.back().path != n.path) {
      grouped.push_back(SharedDirectory{n.root, std::move(n.path), 0, {}});
    }
    for (std::string& name : n.names) grouped.back().names.push_back(std::move(name));
  }
  for (SharedDirectory& g : grouped) {
    std::sort(g.names.begin(), g.names.end());
    g.names.erase(std::unique(g.names.begin(), g.names.end()), g.names.end());
    g.entries = g.names.size();
  }
  return grouped;
}

bool record_before(const SharedDirectory& a, const SharedDirectory& b) {
  return std::tie(a.root, a.path, a.names) < std::tie(b.root, b.path, b.names);
}

PieceDeal deal_pieces(std::vector<SharedDirectory> files, std::uint64_t piece_size,
                      unsigned ranks) {
  ranks = std::max(ranks, 1u);
  piece_size = std::max<std::uint64_t>(piece_size, 1);
  PieceDeal deal;
  deal.pieces.resize(ranks);
  deal.files.resize(ranks);
  std::sort(files.begin(), files.end(), record_before);
  std::uint64_t next = 0;
  for (const SharedDirectory& f : files) {
    if (f.names.size() != 1) continue;
    SharedPiece whole{f.root, f.path, f.names.front(), f.entries, 0, f.entries, {}, 0, false};
    deal.files[next % ranks].push_back(whole);
    for (std::uint64_t at = 0; at < f.entries; at += piece_size) {
      SharedPiece piece = whole;
      piece.offset = at;
      piece.length = std::min(piece_size, f.entries - at);
      deal.pieces[next % ranks].push_back(std::move(piece));
      ++next;
    }
  }
  return deal;
}

std::string encode_directories(const std::vector<SharedDirectory>& directories) {
  std::string out = kMagic;
  put_number(out, directories.size());
  for (const SharedDirectory& d : directories) {
    put_number(out, d.root);
    put_number(out, d.entries);
    put_text(out, d.path);
    put_number(out, d.names.size());
    for (const std::string& name : d.names) put_text(out, name);
    put_number(out, d.fresh ? 1 : 0);
  }
  return out;
}

bool decode_directories(const std::string& bytes, std::vector<SharedDirectory>& out) {
  const std::size_t magic = std::strlen(kMagic);
  if (bytes.compare(0, magic, kMagic) != 0) return false;
  const std::string body = bytes.substr(magic);
  Reader in(body);
  std::uint64_t count = 0;
  if (!in.number(count) || count > body.size()) return false;
  out.clear();
  out.reserve(count);
  for (std::uint64_t i = 0; i < count; ++i) {
    SharedDirectory d;
    std::uint64_t root = 0, names = 0;
    if (!in.number(root) || !in.number(d.entries) || !in.text(d.path) || !in.number(names) ||
        names > body.size())
      return false;
    d.root = static_cast<unsigned>(root);
    d.names.resize(names);
    for (std::string& name : d.names)
      if (!in.text(name)) return false;
    std::uint64_t fresh = 0;
    if (!in.number(fresh) || fresh > 1) return false;
    d.fresh = fresh == 1;
    out.push_back(std::move(d));
  }
  return in.at_end();
}

}  // namespace ccopy::dist
