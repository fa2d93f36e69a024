// TechEmpower's fortunes page (bench/servers/views: a page and a row partial, 13 rows) rendered
// N times by spur::Views, which walks the compiled partial, and by kainjow's own renderer, which
// parses the partial's text again at each row: what spur::Views did before #38. Run by hand:
//   views_render [N]      (default 20000)
#include <spur/views/views.hpp>

#include <kainjow/mustache.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace json = boost::json;
namespace mustache = kainjow::mustache;

namespace {

const std::vector<std::string> messages = {
    "fortune: No such file or directory",
    "A computer scientist is someone who fixes things that aren't broken.",
    "After enough decimal places, nobody gives a damn.",
    "A bad random number generator: 1, 1, 1, 1, 1, 4.33e+67, 1, 1, 1",
    "A computer program does what you tell it to do, not what you want it to do.",
    "Emacs is a nice operating system, but I prefer UNIX. \u2014 Tom Christaensen",
    "Any program that runs right is obsolete.",
    "A list is only as strong as its weakest link. \u2014 Donald Knuth",
    "Feature: A bug with seniority.",
    "Computers make very fast, very accurate mistakes.",
    "<script>alert(\"This should not be displayed in a browser alert box.\");</script>",
    "\u30d5\u30ec\u30fc\u30e0\u30ef\u30fc\u30af\u306e\u30d9\u30f3\u30c1\u30de\u30fc\u30af",
    "Additional fortune added at request time.",
};

std::string read(const std::string& name) {
    std::ifstream in(std::string(SPUR_BENCH_VIEWS) + "/" + name + ".mustache", std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

template <class Render>
double us_per_render(int n, Render render) {
    std::size_t bytes = 0;
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < n; ++i) bytes += render().size();
    const std::chrono::duration<double, std::micro> took = std::chrono::steady_clock::now() - start;
    if (bytes == 0) std::abort();
    return took.count() / n;
}

}  // namespace

int main(int argc, char** argv) {
    const int n = argc > 1 ? std::atoi(argv[1]) : 20000;

    json::array list;
    mustache::data rows(mustache::data::type::list);
    for (std::size_t i = 0; i < messages.size(); ++i) {
        list.push_back(json::object{{"id", i + 1}, {"message", messages[i]}});
        mustache::data row(mustache::data::type::object);
        row.set("id", mustache::data(std::to_string(i + 1)));
        row.set("message", mustache::data(messages[i]));
        rows.push_back(row);
    }
    const json::value page_data = {{"fortunes", std::move(list)}};

    spur::Views views(spur::ViewOptions{.dir = SPUR_BENCH_VIEWS});
    const auto spur_us = us_per_render(n, [&] { return views.render("fortunes", page_data); });

    // kainjow alone, from data already converted (spur converts the JSON as part of each render).
    const auto row_text = read("fortune");
    mustache::data data(mustache::data::type::object);
    data.set("fortunes", rows);
    data.set("fortune", mustache::data(mustache::partial([&row_text] { return row_text; })));
    mustache::mustache page(read("fortunes"));
    const auto kainjow_us = us_per_render(n, [&] { return page.render(data); });

    if (views.render("fortunes", page_data) != page.render(data)) {
        std::fprintf(stderr, "the two renderers disagree\n");
        return 1;
    }
    std::printf("fortunes page, %zu rows, %d renders\n", messages.size(), n);
    std::printf("  spur::Views::render (from JSON):         %8.2f us/render\n", spur_us);
    std::printf("  kainjow alone, partial parsed per row:   %8.2f us/render\n", kainjow_us);
}
