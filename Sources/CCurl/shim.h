#ifndef PRERENDER_CCURL_SHIM_H
#define PRERENDER_CCURL_SHIM_H

#include <curl/curl.h>

// Why: curl_easy_setopt and curl_easy_getinfo are variadic macros/functions,
// which Swift cannot call. One typed wrapper per argument type.
static inline CURLcode prerender_curl_setopt_long(CURL *h, CURLoption o, long v) {
    return curl_easy_setopt(h, o, v);
}
static inline CURLcode prerender_curl_setopt_string(CURL *h, CURLoption o, const char *v) {
    return curl_easy_setopt(h, o, v);
}
static inline CURLcode prerender_curl_setopt_pointer(CURL *h, CURLoption o, void *v) {
    return curl_easy_setopt(h, o, v);
}
static inline CURLcode prerender_curl_setopt_off_t(CURL *h, CURLoption o, curl_off_t v) {
    return curl_easy_setopt(h, o, v);
}
static inline CURLcode prerender_curl_setopt_slist(CURL *h, CURLoption o, struct curl_slist *v) {
    return curl_easy_setopt(h, o, v);
}
typedef size_t (*prerender_curl_data_callback)(char *ptr, size_t size, size_t nmemb, void *userdata);
static inline CURLcode prerender_curl_setopt_data_callback(CURL *h, CURLoption o, prerender_curl_data_callback v) {
    return curl_easy_setopt(h, o, v);
}
typedef int (*prerender_curl_progress_callback)(void *clientp, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow);
static inline CURLcode prerender_curl_setopt_progress_callback(CURL *h, CURLoption o, prerender_curl_progress_callback v) {
    return curl_easy_setopt(h, o, v);
}
static inline CURLcode prerender_curl_getinfo_long(CURL *h, CURLINFO i, long *v) {
    return curl_easy_getinfo(h, i, v);
}
static inline CURLcode prerender_curl_getinfo_double(CURL *h, CURLINFO i, double *v) {
    return curl_easy_getinfo(h, i, v);
}

#endif
