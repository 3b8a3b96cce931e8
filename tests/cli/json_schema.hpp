// A validator for the part of JSON Schema that docs/output.schema.json uses: type (a name or a
// list of names), enum, minimum, required, properties, additionalProperties: false, items, and
// $ref to "#/$defs/NAME". Anything else in a schema is reported as unsupported, so that the
// schema cannot silently use a keyword this validator would ignore.
#pragma once

#include <cmath>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

namespace ccopy::testing {

class SchemaValidator {
 public:
  explicit SchemaValidator(nlohmann::json schema) : root_(std::move(schema)) {}

  /// Every violation found, each as "path: what is wrong"; empty when `doc` is valid.
  std::vector<std::string> validate(const nlohmann::json& doc) const {
    std::vector<std::string> errors;
    check(doc, root_, "$", errors);
    return errors;
  }

 private:
  static bool has_type(const nlohmann::json& value, const std::string& type) {
    if (type == "null") return value.is_null();
    if (type == "boolean") return value.is_boolean();
    if (type == "string") return value.is_string();
    if (type == "array") return value.is_array();
    if (type == "object") return value.is_object();
    if (type == "number") return value.is_number();
    if (type == "integer") {
      if (value.is_number_integer()) return true;
      return value.is_number_float() && std::floor(value.get<double>()) == value.get<double>();
    }
    return false;
  }

  const nlohmann::json& resolve(const nlohmann::json& schema, const std::string& path,
                                std::vector<std::string>& errors) const {
    if (!schema.contains("$ref")) return schema;
    const std::string ref = schema["$ref"].get<std::string>();
    const std::string prefix = "#/$defs/";
    if (ref.rfind(prefix, 0) == 0 && root_.contains("$defs") &&
        root_["$defs"].contains(ref.substr(prefix.size())))
      return root_["$defs"][ref.substr(prefix.size())];
    errors.push_back(path + ": unresolvable $ref " + ref);
    return schema;
  }

  void check(const nlohmann::json& value, const nlohmann::json& raw_schema, const std::string& path,
             std::vector<std::string>& errors) const {
    const nlohmann::json& schema = resolve(raw_schema, path, errors);
    static const std::set<std::string> known{
        "$schema", "$id",  "$defs",   "$ref",     "title",      "description",
        "type",    "enum", "minimum", "required", "properties", "additionalProperties",
        "items",   "exclusiveMinimum"};
    for (const auto& [key, unused] : schema.items())
      if (known.count(key) == 0) errors.push_back(path + ": unsupported schema keyword " + key);

    if (schema.contains("type")) {
      const nlohmann::json& type = schema["type"];
      bool ok = false;
      if (type.is_string()) ok = has_type(value, type.get<std::string>());
      for (const auto& t : type.is_array() ? type : nlohmann::json::array())
        ok = ok || has_type(value, t.get<std::string>());
      if (!ok) {
        errors.push_back(path + ": " + value.type_name() + " is not of type " + type.dump());
        return;
      }
    }
    if (schema.contains("enum")) {
      bool found = false;
      for (const auto& allowed : schema["enum"]) found = found || allowed == value;
      if (!found)
        errors.push_back(path + ": " + value.dump() + " is not one of " + schema["enum"].dump());
    }
    if (schema.contains("minimum") && value.is_number() &&
        value.get<double>() < schema["minimum"].get<double>())
      errors.push_back(path + ": " + value.dump() + " is below the minimum " +
                       schema["minimum"].dump());
    if (schema.contains("exclusiveMinimum") && value.is_number() &&
        value.get<double>() <= schema["exclusiveMinimum"].get<double>())
      errors.push_back(path + ": " + value.dump() + " is not above the exclusive minimum " +
                       schema["exclusiveMinimum"].dump());
    if (value.is_object()) check_object(value, schema, path, errors);
    if (value.is_array() && schema.contains("items"))
      for (std::size_t i = 0; i < value.size(); ++i)
        check(value[i], schema["items"], path + "[" + std::to_string(i) + "]", errors);
  }

  void check_object(const nlohmann::json& value, const nlohmann::json& schema,
                    const std::string& path, std::vector<std::string>& errors) const {
    for (const auto& name : schema.value("required", nlohmann::json::array()))
      if (!value.contains(name.get<std::string>()))
        errors.push_back(path + ": missing required property " + name.get<std::string>());
    const nlohmann::json properties = schema.value("properties", nlohmann::json::object());
    const bool closed =
        schema.contains("additionalProperties") && schema["additionalProperties"] == false;
    for (const auto& [key, member] : value.items()) {
      if (properties.contains(key))
        check(member, properties[key], path + "." + key, errors);
      else if (closed)
        errors.push_back(path + ": property " + key + " is not in the schema");
    }
  }

  nlohmann::json root_;
};

}  // namespace ccopy::testing
