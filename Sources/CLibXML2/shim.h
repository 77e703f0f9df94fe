#ifndef KERF_CLIBXML2_SHIM_H
#define KERF_CLIBXML2_SHIM_H
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlwriter.h>
#include <libxml/xmlschemas.h>
#include <libxml/xpath.h>

/* xmlFree is a global function pointer variable in libxml2; Swift imports it as an optional
   closure variable that is awkward to call. */
static inline void kerf_xml_free(void *pointer) { xmlFree(pointer); }
#endif
