# Writes OUTPUT: a C++ table of every app/migrations/NNN_name.sql, in version order, so the
# binary carries its schema and runs from anywhere. The name is the file's stem, as
# spur::mysql::read_migrations names them, and the SQL its bytes (their checksum is recorded).
file(GLOB files "${MIGRATIONS_DIR}/*.sql")
list(SORT files)
set(body "")
foreach(f ${files})
  get_filename_component(name "${f}" NAME_WE)
  string(REGEX MATCH "^[0-9]+" version "${name}")
  if(version STREQUAL "")
    message(FATAL_ERROR "migration ${f} must start with a version number")
  endif()
  math(EXPR version "${version}")
  file(READ "${f}" sql)
  string(APPEND body "    {${version}, \"${name}\", R\"spur_sql(${sql})spur_sql\"},\n")
endforeach()
file(WRITE "${OUTPUT}.tmp" "// Generated from app/migrations by embed_migrations.cmake. Do not edit.\n#include \"migrate.hpp\"\n\nnamespace app {\nconst std::vector<spur::mysql::Migration>& file_migrations() {\n    static const std::vector<spur::mysql::Migration> all = {\n${body}    };\n    return all;\n}\n}  // namespace app\n")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
