// Native addon of dockerfix's e2e sample: proves a compiled module loads in the runtime image.
#include <napi.h>

static Napi::Value Hello(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), "native addon loaded");
}

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("hello", Napi::Function::New(env, Hello));
  return exports;
}

NODE_API_MODULE(hello, Init)
