/*  hearth_config - the mesh.yml loader.

    Two steps. First libyaml's events become a small tree of nodes, each
    with its 1-based line and column; this is where aliases, anchors, tags,
    duplicate keys, depth and a second document are refused, because only
    the event stream still shows them. Then the tree is walked against one
    table per section (hearth_settings rows: s_broker_keys, which takes in
    the broker's own hearth_broker_settings[], hearth_config_service_keys,
    ...), as redis's config.c does: a key that is not in a table is an
    error, and every default, type and range lives in exactly one place.
*/
#include "hearth_config.h"
#include "hearth_route_expr.h"
#include "hearth/hearth_proto.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/*  A map with more keys than this is refused: duplicate detection is
    quadratic, and no sane mesh needs more.                                  */
#define S_MAP_KEYS_MAX 1024

/* ------------------------------------------------------------- the tree */

typedef enum { S_SCALAR, S_SEQUENCE, S_MAPPING } s_kind_t;

typedef struct s_node_t {
    s_kind_t kind;
    int line, column;               /* 1-based                              */
    char *text;                     /* scalar, NUL-terminated               */
    bool plain;                     /* scalar was not quoted                */
    struct s_node_t **child;        /* mapping: key, value, key, value...   */
    size_t count, max;
} s_node_t;

static void
s_node_destroy (s_node_t **self_p)
{
    s_node_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < self->count; i++)
        s_node_destroy (&self->child[i]);
    free (self->child);
    free (self->text);
    free (self);
    *self_p = NULL;
}

typedef struct {
    yaml_parser_t parser;
    const char *name;               /* file name in messages                */
    char *error;
    size_t size;
    bool failed;
    hearth_config_t *config;
    const s_node_t *pipelines;      /* checked once services are known      */
} s_loader_t;

/*  Writes "name:line:column: what" into the caller's buffer; the first
    error wins, as it is the one the user must fix first. Returns -1.        */
static int
s_vfail (s_loader_t *self, int line, int column, const char *format,
         va_list args)
{
    if (self->failed || self->size == 0)
        return -1;
    self->failed = true;
    int used = snprintf (self->error, self->size, "%s:%d:%d: ", self->name,
                         line, column);
    if (used >= 0 && (size_t) used < self->size)
        vsnprintf (self->error + used, self->size - used, format, args);
    return -1;
}

static int
s_fail (s_loader_t *self, int line, int column, const char *format, ...)
    __attribute__ ((format (printf, 4, 5)));

static int
s_fail (s_loader_t *self, int line, int column, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    s_vfail (self, line, column, format, args);
    va_end (args);
    return -1;
}

/*  The same, at the place where node starts.                               */
static int
s_fail_at (s_loader_t *self, const s_node_t *node, const char *format, ...)
    __attribute__ ((format (printf, 3, 4)));

static int
s_fail_at (s_loader_t *self, const s_node_t *node, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    s_vfail (self, node->line, node->column, format, args);
    va_end (args);
    return -1;
}

static s_node_t *
s_node_new (s_loader_t *self, s_kind_t kind, const yaml_mark_t *mark)
{
    s_node_t *node = calloc (1, sizeof *node);
    if (!node) {
        s_fail (self, (int) mark->line + 1, (int) mark->column + 1,
                "out of memory");
        return NULL;
    }
    node->kind = kind;
    node->line = (int) mark->line + 1;
    node->column = (int) mark->column + 1;
    return node;
}

static int
s_node_append (s_loader_t *self, s_node_t *parent, s_node_t *child)
{
    if (parent->count == parent->max) {
        size_t max = parent->max ? parent->max * 2 : 8;
        s_node_t **bigger = realloc (parent->child, max * sizeof *bigger);
        if (!bigger)
            return s_fail (self, child->line, child->column, "out of memory");
        parent->child = bigger;
        parent->max = max;
    }
    parent->child[parent->count++] = child;
    return 0;
}

/*  Refuses what YAML can express but a mesh must not use. Aliases and
    anchors make one value appear in several places (and, nested, can blow
    up memory: "billion laughs"); tags ask for types we do not have.        */
static int
s_check_event (s_loader_t *self, const yaml_event_t *event)
{
    int line = (int) event->start_mark.line + 1;
    int column = (int) event->start_mark.column + 1;
    const yaml_char_t *anchor = NULL, *tag = NULL;
    bool implicit = true;
    switch (event->type) {
        case YAML_ALIAS_EVENT:
            return s_fail (self, line, column, "aliases are not allowed");
        case YAML_SCALAR_EVENT:
            anchor = event->data.scalar.anchor;
            tag = event->data.scalar.tag;
            implicit = event->data.scalar.plain_implicit
                    || event->data.scalar.quoted_implicit;
            break;
        case YAML_SEQUENCE_START_EVENT:
            anchor = event->data.sequence_start.anchor;
            tag = event->data.sequence_start.tag;
            implicit = event->data.sequence_start.implicit;
            break;
        case YAML_MAPPING_START_EVENT:
            anchor = event->data.mapping_start.anchor;
            tag = event->data.mapping_start.tag;
            implicit = event->data.mapping_start.implicit;
            break;
        default:
            break;
    }
    if (anchor)
        return s_fail (self, line, column, "anchors are not allowed");
    if (tag && !implicit)
        return s_fail (self, line, column, "tags are not allowed");
    return 0;
}

static int
s_next_event (s_loader_t *self, yaml_event_t *event)
{
    if (!yaml_parser_parse (&self->parser, event)) {
        const yaml_mark_t *mark = &self->parser.problem_mark;
        const char *problem = self->parser.problem ? self->parser.problem
                                                   : "unreadable input";
        if (self->parser.context)
            return s_fail (self, (int) mark->line + 1, (int) mark->column + 1,
                           "YAML syntax error: %s %s", problem,
                           self->parser.context);
        return s_fail (self, (int) mark->line + 1, (int) mark->column + 1,
                       "YAML syntax error: %s", problem);
    }
    if (s_check_event (self, event)) {
        yaml_event_delete (event);
        return -1;
    }
    return 0;
}

static s_node_t *s_parse_node (s_loader_t *self, yaml_event_t *event,
                               int depth);

/*  The key just added at child[count - 1] must not repeat an earlier one.  */
static int
s_check_key (s_loader_t *self, const s_node_t *map, const s_node_t *key)
{
    if (key->kind != S_SCALAR)
        return s_fail (self, key->line, key->column,
                       "keys must be plain names, not lists or maps");
    if (map->count / 2 >= S_MAP_KEYS_MAX)
        return s_fail (self, key->line, key->column,
                       "more than %d keys in one map", S_MAP_KEYS_MAX);
    for (size_t i = 0; i < map->count; i += 2)
        if (strcmp (map->child[i]->text, key->text) == 0)
            return s_fail (self, key->line, key->column,
                           "duplicate key '%s' (first at line %d)", key->text,
                           map->child[i]->line);
    return 0;
}

/*  Reads the children of the collection started by start, up to its end
    event. Returns the node, or NULL after s_fail.                           */
static s_node_t *
s_parse_collection (s_loader_t *self, const yaml_event_t *start, int depth)
{
    bool mapping = start->type == YAML_MAPPING_START_EVENT;
    if (depth > HEARTH_CONFIG_DEPTH_MAX) {
        s_fail (self, (int) start->start_mark.line + 1,
                (int) start->start_mark.column + 1,
                "nested deeper than %d levels", HEARTH_CONFIG_DEPTH_MAX);
        return NULL;
    }
    s_node_t *node = s_node_new (self, mapping ? S_MAPPING : S_SEQUENCE,
                                 &start->start_mark);
    yaml_event_type_t end = mapping ? YAML_MAPPING_END_EVENT
                                    : YAML_SEQUENCE_END_EVENT;
    while (node) {
        yaml_event_t event;
        if (s_next_event (self, &event))
            break;
        if (event.type == end) {
            yaml_event_delete (&event);
            return node;
        }
        s_node_t *child = s_parse_node (self, &event, depth + 1);
        yaml_event_delete (&event);
        if (!child)
            break;
        bool is_key = mapping && node->count % 2 == 0;
        if ((is_key && s_check_key (self, node, child))
        ||  s_node_append (self, node, child)) {
            s_node_destroy (&child);
            break;
        }
    }
    s_node_destroy (&node);
    return NULL;
}

/*  Makes the node that event starts (a scalar, or a whole collection).    */
static s_node_t *
s_parse_node (s_loader_t *self, yaml_event_t *event, int depth)
{
    if (event->type == YAML_MAPPING_START_EVENT
    ||  event->type == YAML_SEQUENCE_START_EVENT)
        return s_parse_collection (self, event, depth);
    if (event->type != YAML_SCALAR_EVENT) {
        s_fail (self, (int) event->start_mark.line + 1,
                (int) event->start_mark.column + 1, "unexpected YAML event");
        return NULL;
    }
    s_node_t *node = s_node_new (self, S_SCALAR, &event->start_mark);
    if (!node)
        return NULL;
    node->plain = event->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    node->text = strndup ((const char *) event->data.scalar.value,
                          event->data.scalar.length);
    if (!node->text || strlen (node->text) != event->data.scalar.length) {
        s_fail (self, node->line, node->column, node->text
                ? "NUL bytes are not allowed" : "out of memory");
        s_node_destroy (&node);
    }
    return node;
}

/*  Reads the whole stream: exactly one document whose root is returned.  */
static s_node_t *
s_parse_document (s_loader_t *self)
{
    yaml_event_t event;
    s_node_t *root = NULL;
    if (s_next_event (self, &event))                /* STREAM-START         */
        return NULL;
    yaml_event_delete (&event);
    if (s_next_event (self, &event))
        return NULL;
    if (event.type == YAML_STREAM_END_EVENT) {
        s_fail (self, 1, 1, "the config is empty");
        yaml_event_delete (&event);
        return NULL;
    }
    yaml_event_delete (&event);                     /* DOCUMENT-START       */
    if (s_next_event (self, &event))
        return NULL;
    root = s_parse_node (self, &event, 1);
    yaml_event_delete (&event);
    if (!root || s_next_event (self, &event))       /* DOCUMENT-END         */
        goto fail;
    yaml_event_delete (&event);
    if (s_next_event (self, &event))
        goto fail;
    bool more = event.type != YAML_STREAM_END_EVENT;
    if (more)
        s_fail (self, (int) event.start_mark.line + 1,
                (int) event.start_mark.column + 1,
                "only one YAML document is allowed");
    yaml_event_delete (&event);
    if (!more)
        return root;
fail:
    s_node_destroy (&root);
    return NULL;
}

/* ------------------------------------------------------------ the tables */

#define S_BROKER(field) offsetof (hearth_config_broker_t, field)
#define S_SERVICE(field) offsetof (hearth_config_service_t, field)
#define S_DAY_MS HEARTH_SETTINGS_DAY_MS

/*  One row per key; designated, so every row says what it sets.           */
#define S_NUMBER(key_, field, low, high, default_) \
    { .key = key_, .type = HEARTH_SETTING_INT, .offset = field, .min = low, \
      .max = high, .value = default_ }
#define S_OF_TYPE(key_, kind, field) \
    { .key = key_, .type = HEARTH_SETTING_ ## kind, .offset = field }

/*  bind, then every setting of the broker's own table: ranges and defaults
    are hearth-broker's, so a config that loads is one the broker accepts.  */
static const hearth_setting_t s_broker_keys[] = {
    { .key = "bind", .type = HEARTH_SETTING_LIST, .offset = S_BROKER (bind),
      .max = HEARTH_CONFIG_BINDS_MAX, .text = HEARTH_DEFAULT_ENDPOINT },
    { .key = "hearth_broker_settings", .type = HEARTH_SETTING_INCLUDE,
      .offset = S_BROKER (settings), .table = hearth_broker_settings },
    HEARTH_SETTING_END
};

static const hearth_setting_t s_schema_keys[] = {
    S_OF_TYPE ("input", STRING, S_SERVICE (input_schema)),
    S_OF_TYPE ("output", STRING, S_SERVICE (output_schema)),
    HEARTH_SETTING_END
};

static const char *const s_framings[] = { "line", "length", NULL };
_Static_assert (sizeof (hearth_framing_t) == sizeof (int),
                "an ENUM setting is stored as an int");

/*  Defaults as hearth-worker's and `python3 -m hearth serve`'s.           */
const hearth_setting_t hearth_config_service_keys[] = {
    S_OF_TYPE ("command", LIST, S_SERVICE (command)),
    S_OF_TYPE ("module", STRING, S_SERVICE (module)),
    S_OF_TYPE ("worker", LIST, S_SERVICE (worker)),
    S_OF_TYPE ("directory", STRING, S_SERVICE (directory)),
    S_NUMBER ("processes", S_SERVICE (processes), 1, 256, 1),
    S_NUMBER ("concurrency", S_SERVICE (concurrency), 1, 1024, 1),
    S_NUMBER ("timeout_ms", S_SERVICE (timeout_ms), 1, S_DAY_MS, 30000),
    S_NUMBER ("start_timeout_ms", S_SERVICE (start_timeout_ms), 1, S_DAY_MS,
              60000),
    S_OF_TYPE ("ready_line", STRING, S_SERVICE (ready_line)),
    { .key = "framing", .type = HEARTH_SETTING_ENUM,
      .offset = S_SERVICE (framing), .names = s_framings,
      .value = HEARTH_FRAMING_LINE },
    S_OF_TYPE ("per_request", BOOL, S_SERVICE (per_request)),
    S_OF_TYPE ("idempotent", BOOL, S_SERVICE (idempotent)),
    S_OF_TYPE ("description", STRING, S_SERVICE (description)),
    S_OF_TYPE ("version", STRING, S_SERVICE (version)),
    { .key = "schema", .type = HEARTH_SETTING_SECTION, .table = s_schema_keys },
    S_OF_TYPE ("example", STRING, S_SERVICE (example)),
    HEARTH_SETTING_END
};

const hearth_setting_t hearth_config_keys[] = {
    { .key = "broker", .type = HEARTH_SETTING_SECTION,
      .offset = offsetof (hearth_config_t, broker), .table = s_broker_keys },
    S_OF_TYPE ("services", SPECIAL, 0),
    S_OF_TYPE ("pipelines", SPECIAL, 0),
    HEARTH_SETTING_END
};

/* --------------------------------------------------------------- values */

static void
s_argv_free (hearth_config_argv_t *argv)
{
    for (size_t i = 0; i < argv->count; i++)
        free (argv->argv[i]);
    free (argv->argv);
    argv->argv = NULL;
    argv->count = 0;
}

/*  A plain empty, ~ or null scalar is YAML's null: a key given no value.  */
static bool
s_is_null (const s_node_t *node)
{
    return node->kind == S_SCALAR && node->plain
        && (!*node->text || strcmp (node->text, "~") == 0
        ||  strcmp (node->text, "null") == 0 || strcmp (node->text, "Null") == 0
        ||  strcmp (node->text, "NULL") == 0);
}

static int
s_set_number (s_loader_t *self, const hearth_setting_t *key,
              const s_node_t *value, void *base)
{
    int rc = value->kind == S_SCALAR && value->plain
           ? hearth_settings_set (key, value->text, base) : -1;
    if (rc == -1)
        return s_fail_at (self, value, "'%s' must be an integer", key->key);
    if (rc == -2)
        return s_fail_at (self, value, "'%s' must be %lld to %lld, not %s",
                          key->key, key->min, key->max, value->text);
    return 0;
}

static int
s_set_bool (s_loader_t *self, const hearth_setting_t *key,
            const s_node_t *value, void *base)
{
    if (value->kind == S_SCALAR && value->plain
    &&  hearth_settings_set (key, value->text, base) == 0)
        return 0;
    return s_fail_at (self, value, "'%s' must be true or false", key->key);
}

static int
s_set_enum (s_loader_t *self, const hearth_setting_t *key,
            const s_node_t *value, void *base)
{
    if (value->kind == S_SCALAR
    &&  hearth_settings_set (key, value->text, base) == 0)
        return 0;
    char names[160];
    hearth_settings_names (key, names, sizeof names);
    return s_fail_at (self, value, "'%s' must be %s", key->key, names);
}

/*  The loader's strings are its own copies (hearth_config_destroy frees
    them), so they are not set through hearth_settings_set.                 */
static int
s_set_string (s_loader_t *self, const hearth_setting_t *key,
              const s_node_t *value, char **field)
{
    if (value->kind != S_SCALAR)
        return s_fail_at (self, value, "'%s' must be a string", key->key);
    char *copy = strdup (value->text);
    if (!copy)
        return s_fail_at (self, value, "out of memory");
    free (*field);
    *field = copy;
    return 0;
}

static int
s_set_argv (s_loader_t *self, const hearth_setting_t *key,
            const s_node_t *value, hearth_config_argv_t *field)
{
    if (value->kind != S_SEQUENCE || value->count == 0)
        return s_fail_at (self, value, "'%s' must be a non-empty list of "
                          "strings", key->key);
    if (key->max && value->count > (size_t) key->max)
        return s_fail_at (self, value, "'%s' must have at most %lld items",
                          key->key, key->max);
    hearth_config_argv_t argv = { calloc (value->count + 1, sizeof (char *)), 0 };
    if (!argv.argv)
        return s_fail_at (self, value, "out of memory");
    for (size_t i = 0; i < value->count; i++) {
        const s_node_t *item = value->child[i];
        if (item->kind != S_SCALAR || s_is_null (item)) {
            s_argv_free (&argv);
            return s_fail_at (self, item, "'%s' must be a non-empty list of "
                              "strings", key->key);
        }
        if (!(argv.argv[argv.count++] = strdup (item->text))) {
            s_argv_free (&argv);
            return s_fail_at (self, item, "out of memory");
        }
    }
    s_argv_free (field);
    *field = argv;
    return 0;
}

/*  Gives every key of table its default in the struct at base: numbers,
    booleans and enums as the table says, and a list its one default item
    (the loader owns that copy).                                            */
static int
s_defaults (const hearth_setting_t *table, void *base)
{
    hearth_settings_defaults (table, base);
    for (const hearth_setting_t *key = table; key->key; key++) {
        void *field = (char *) base + key->offset;
        if ((key->type == HEARTH_SETTING_SECTION
        ||   key->type == HEARTH_SETTING_INCLUDE)
        &&  s_defaults (key->table, field))
            return -1;
        if (key->type == HEARTH_SETTING_LIST && key->text) {
            hearth_config_argv_t *argv = field;
            argv->argv = calloc (2, sizeof (char *));
            if (!argv->argv || !(argv->argv[0] = strdup (key->text)))
                return -1;
            argv->count = 1;
        }
    }
    return 0;
}

static int s_apply_table (s_loader_t *self, const hearth_setting_t *table,
                          const s_node_t *map, void *base, const char *where);
static int s_load_services (s_loader_t *self, const s_node_t *map);

static int
s_apply_key (s_loader_t *self, const hearth_setting_t *key,
             const s_node_t *value, void *base)
{
    void *field = (char *) base + key->offset;
    if (s_is_null (value))
        return s_fail_at (self, value, "'%s' has no value", key->key);
    switch (key->type) {
        case HEARTH_SETTING_INT:
        case HEARTH_SETTING_SIZE:   return s_set_number (self, key, value, base);
        case HEARTH_SETTING_BOOL:   return s_set_bool (self, key, value, base);
        case HEARTH_SETTING_ENUM:   return s_set_enum (self, key, value, base);
        case HEARTH_SETTING_STRING: return s_set_string (self, key, value, field);
        case HEARTH_SETTING_LIST:   return s_set_argv (self, key, value, field);
        case HEARTH_SETTING_SECTION:
            if (value->kind != S_MAPPING)
                return s_fail_at (self, value, "'%s' must be a map",
                                  key->key);
            return s_apply_table (self, key->table, value, field, key->key);
        case HEARTH_SETTING_SPECIAL:
            if (strcmp (key->key, "services") == 0)
                return s_load_services (self, value);
            if (value->kind != S_MAPPING)
                return s_fail_at (self, value, "'%s' must be a map",
                                  key->key);
            self->pipelines = value;
            return 0;
        case HEARTH_SETTING_INCLUDE:
            break;                  /* never found by key                   */
    }
    return -1;
}

/*  Applies each key: value of map through table; where names the section
    in the message about an unknown key.                                    */
static int
s_apply_table (s_loader_t *self, const hearth_setting_t *table,
               const s_node_t *map, void *base, const char *where)
{
    for (size_t i = 0; i + 1 < map->count; i += 2) {
        const s_node_t *name = map->child[i];
        size_t offset = 0;
        const hearth_setting_t *key = hearth_settings_find (table, name->text,
                                                            &offset);
        if (!key)
            return s_fail_at (self, name, "unknown key '%s' in %s",
                              name->text, where);
        if (s_apply_key (self, key, map->child[i + 1], (char *) base + offset))
            return -1;
    }
    return 0;
}

/* ------------------------------------------------------------- sections */

/*  The value of key in map, or NULL (also when map is not a map).         */
static const s_node_t *
s_lookup (const s_node_t *map, const char *key)
{
    for (size_t i = 0; map && map->kind == S_MAPPING && i + 1 < map->count;
         i += 2)
        if (strcmp (map->child[i]->text, key) == 0)
            return map->child[i + 1];
    return NULL;
}

/*  What the broker section needs beyond its keys' own ranges: as
    hearth_broker_config_check, so a config that loads is one the broker
    accepts.                                                                 */
static int
s_check_broker (s_loader_t *self, const s_node_t *root)
{
    const hearth_broker_config_t *broker = &self->config->broker.settings;
    if (broker->max_pending_bytes >= broker->max_message)
        return 0;
    const s_node_t *section = s_lookup (root, "broker");
    const s_node_t *at = s_lookup (section, "max_pending_bytes");
    return s_fail_at (self, at ? at : s_lookup (section, "max_message"),
                      "max_pending_bytes (%zu) must be at least max_message "
                      "(%zu)", broker->max_pending_bytes, broker->max_message);
}

const char *
hearth_config_name_check (const char *name)
{
    return hearth_route_expr_name_check (name);
}

/*  What one service needs beyond its keys' own checks.                    */
static int
s_check_service (s_loader_t *self, const hearth_config_service_t *service,
                 const s_node_t *at)
{
    int kinds = (service->command.count > 0) + (service->module != NULL)
              + (service->worker.count > 0);
    if (kinds == 0)
        return s_fail_at (self, at, "service '%s' needs one of command, "
                          "module or worker", service->name);
    if (kinds > 1)
        return s_fail_at (self, at, "service '%s' has more than one of "
                          "command, module and worker", service->name);
    if (service->module) {
        const char *colon = strchr (service->module, ':');
        if (!colon || colon == service->module || !colon[1]
        ||  strchr (colon + 1, ':'))
            return s_fail_at (self, at, "service '%s': module must be "
                              "MODULE:FUNCTION, not '%s'", service->name,
                              service->module);
    }
    if (service->ready_line && (!*service->ready_line
    ||  strchr (service->ready_line, '\n')))
        return s_fail_at (self, at, "service '%s': ready_line must be one "
                          "non-empty line", service->name);
    return 0;
}

static int
s_load_service (s_loader_t *self, const s_node_t *name, const s_node_t *value)
{
    const char *invalid = hearth_config_name_check (name->text);
    if (invalid)
        return s_fail_at (self, name, "service name '%s' %s", name->text,
                          invalid);
    if (value->kind != S_MAPPING)
        return s_fail_at (self, value, "service '%s' must be a map",
                          name->text);
    hearth_config_t *config = self->config;
    hearth_config_service_t *service = &config->services[config->service_count];
    memset (service, 0, sizeof *service);
    config->service_count++;
    service->line = name->line;
    service->name = strdup (name->text);
    if (!service->name || s_defaults (hearth_config_service_keys, service))
        return s_fail_at (self, name, "out of memory");
    char where[HEARTH_SERVICE_MAX + 32];
    snprintf (where, sizeof where, "service '%s'", name->text);
    if (s_apply_table (self, hearth_config_service_keys, value, service, where))
        return -1;
    if (service->kind == HEARTH_SERVICE_COMMAND && service->module)
        service->kind = HEARTH_SERVICE_MODULE;
    if (service->worker.count)
        service->kind = HEARTH_SERVICE_WORKER;
    return s_check_service (self, service, name);
}

static int
s_load_services (s_loader_t *self, const s_node_t *map)
{
    if (map->kind != S_MAPPING)
        return s_fail_at (self, map, "'services' must be a map of service "
                          "names");
    if (map->count == 0)
        return s_fail_at (self, map, "'services' must name at least one "
                          "service");
    self->config->services = calloc (map->count / 2,
                                     sizeof (hearth_config_service_t));
    if (!self->config->services)
        return s_fail_at (self, map, "out of memory");
    for (size_t i = 0; i + 1 < map->count; i += 2)
        if (s_load_service (self, map->child[i], map->child[i + 1]))
            return -1;
    return 0;
}

/* --------------------------------------------------------------- routes */

static bool
s_known_service (const char *name, void *arg)
{
    return hearth_config_service (arg, name) != NULL;
}

int
hearth_config_route_check (const char *route,
                           bool (*known) (const char *name, void *arg),
                           void *arg, char *error, size_t size)
{
    hearth_route_expr_t parsed;
    int rc = hearth_route_expr_parse (route, &parsed, error, size);
    for (int i = 0; rc == 0 && known && i < parsed.name_count; i++)
        if (!known (parsed.name[i], arg)) {
            snprintf (error, size, "unknown service '%s'", parsed.name[i]);
            rc = -1;
        }
    hearth_route_expr_free (&parsed);
    return rc;
}

static int
s_load_pipeline (s_loader_t *self, const s_node_t *name, const s_node_t *value)
{
    hearth_config_t *config = self->config;
    const char *invalid = hearth_config_name_check (name->text);
    if (invalid)
        return s_fail_at (self, name, "pipeline name '%s' %s", name->text,
                          invalid);
    if (hearth_config_service (config, name->text))
        return s_fail_at (self, name, "pipeline '%s' has the name of a "
                          "service", name->text);
    if (value->kind != S_SCALAR || s_is_null (value))
        return s_fail_at (self, value, "pipeline '%s' must be a route string "
                          "such as 'a,[b,c],d'", name->text);
    char why[400];
    if (hearth_config_route_check (value->text, s_known_service, config, why,
                                   sizeof why))
        return s_fail_at (self, value, "pipeline '%s': %s", name->text, why);
    hearth_config_pipeline_t *pipeline = &config->pipelines[config->pipeline_count++];
    pipeline->line = name->line;
    pipeline->name = strdup (name->text);
    pipeline->route = strdup (value->text);
    if (!pipeline->name || !pipeline->route)
        return s_fail_at (self, name, "out of memory");
    return 0;
}

static int
s_load_pipelines (s_loader_t *self)
{
    const s_node_t *map = self->pipelines;
    if (!map || map->count == 0)
        return 0;
    if (map->count / 2 > HEARTH_CONFIG_PIPELINES_MAX)
        return s_fail_at (self, map, "more than %d pipelines",
                          HEARTH_CONFIG_PIPELINES_MAX);
    self->config->pipelines = calloc (map->count / 2,
                                      sizeof (hearth_config_pipeline_t));
    if (!self->config->pipelines)
        return s_fail_at (self, map, "out of memory");
    for (size_t i = 0; i + 1 < map->count; i += 2)
        if (s_load_pipeline (self, map->child[i], map->child[i + 1]))
            return -1;
    return 0;
}

/* ------------------------------------------------------------------ API */

static hearth_config_t *
s_load (const char *text, size_t length, const char *name, char *error,
        size_t size)
{
    s_loader_t self = { .name = name, .error = error, .size = size };
    if (size)
        error[0] = 0;
    self.config = calloc (1, sizeof *self.config);
    if (!self.config || !(self.config->source = strdup (name))
    ||  s_defaults (hearth_config_keys, self.config)) {
        s_fail (&self, 1, 1, "out of memory");
        hearth_config_destroy (&self.config);
        return NULL;
    }
    if (!yaml_parser_initialize (&self.parser)) {
        s_fail (&self, 1, 1, "out of memory");
        hearth_config_destroy (&self.config);
        return NULL;
    }
    yaml_parser_set_input_string (&self.parser, (const unsigned char *) text,
                                  length);
    s_node_t *root = s_parse_document (&self);
    int rc = root ? 0 : -1;
    if (rc == 0 && root->kind != S_MAPPING)
        rc = s_fail_at (&self, root, "the config must be a map with "
                        "'services'");
    if (rc == 0)
        rc = s_apply_table (&self, hearth_config_keys, root, self.config,
                            "the top level");
    if (rc == 0 && self.config->service_count == 0)
        rc = s_fail (&self, 1, 1, "no 'services': a mesh needs at least one "
                     "service");
    if (rc == 0)
        rc = s_check_broker (&self, root);
    if (rc == 0)
        rc = s_load_pipelines (&self);
    s_node_destroy (&root);
    yaml_parser_delete (&self.parser);
    if (rc)
        hearth_config_destroy (&self.config);
    return self.config;
}

hearth_config_t *
hearth_config_load_string (const char *text, const char *name, char *error,
                           size_t size)
{
    return s_load (text, strlen (text), name, error, size);
}

hearth_config_t *
hearth_config_load (const char *path, char *error, size_t size)
{
    FILE *file = fopen (path, "rb");
    if (!file) {
        snprintf (error, size, "%s: %s", path, strerror (errno));
        return NULL;
    }
    char *text = malloc (HEARTH_CONFIG_SIZE_MAX + 1);
    size_t length = text ? fread (text, 1, HEARTH_CONFIG_SIZE_MAX + 1, file) : 0;
    bool failed = !text || ferror (file);
    fclose (file);
    hearth_config_t *config = NULL;
    if (failed)
        snprintf (error, size, "%s: cannot read", path);
    else
    if (length > HEARTH_CONFIG_SIZE_MAX)
        snprintf (error, size, "%s: larger than %d bytes", path,
                  HEARTH_CONFIG_SIZE_MAX);
    else
        config = s_load (text, length, path, error, size);
    free (text);
    return config;
}

static void
s_service_free (hearth_config_service_t *service)
{
    free (service->name);
    s_argv_free (&service->command);
    free (service->module);
    s_argv_free (&service->worker);
    free (service->directory);
    free (service->ready_line);
    free (service->description);
    free (service->version);
    free (service->input_schema);
    free (service->output_schema);
    free (service->example);
}

void
hearth_config_destroy (hearth_config_t **self_p)
{
    hearth_config_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < self->service_count; i++)
        s_service_free (&self->services[i]);
    free (self->services);
    for (size_t i = 0; i < self->pipeline_count; i++) {
        free (self->pipelines[i].name);
        free (self->pipelines[i].route);
    }
    free (self->pipelines);
    s_argv_free (&self->broker.bind);
    free (self->source);
    free (self);
    *self_p = NULL;
}

const hearth_config_service_t *
hearth_config_service (const hearth_config_t *self, const char *name)
{
    for (size_t i = 0; i < self->service_count; i++)
        if (strcmp (self->services[i].name, name) == 0)
            return &self->services[i];
    return NULL;
}
