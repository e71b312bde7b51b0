//! The run's input, built as the script reads it.
//!
//! A Logto context is a few KB of JSON: dozens of objects, of which a
//! script reads a handful (`context.user.roles`, `token.clientId`...).
//! Building all of them was most of a run's work. The input's nested
//! objects (those of [`crate::json::LAZY_MIN_BYTES`] of JSON or more) are
//! therefore *lazy objects*: an object of a class of our own
//! that holds where its JSON is in the input text, and builds it (a plain
//! object, the *backing*) the first time anything looks at it. Every
//! operation on a lazy object goes to its backing, through QuickJS's exotic
//! hooks: reading, listing, defining and deleting properties. Its own
//! property table stays empty, so that QuickJS's own fast paths never see
//! half of it, and a property list taken while it is being built cannot
//! change under the caller (`JS_GetOwnPropertyNames` counts an object's
//! properties before it asks the hooks for more).
//!
//! What a script can observe is what a plain object gives: the prototype is
//! `Object.prototype`, keys come in the JSON's order, `JSON.stringify`,
//! spreading, `Object.keys`, `for...in`, assignment, `delete`,
//! `Object.defineProperty` and `Object.freeze` behave the same. Arrays are
//! built whole (they must be real arrays); objects in them are lazy.
//!
//! The text is the host's `serde_json` output for the run, so it is valid
//! JSON. Finding where an object ends only matches its brackets; should
//! its text be malformed all the same, building it throws a `TypeError`
//! naming the byte, at the script's first look.

use std::ffi::c_int;

use javy::quickjs::{Ctx, Error as JsError, Result as JsResult, qjs};

/// The class of lazy objects, registered once when the runtime is made (so
/// it is in every snapshot).
static mut CLASS_ID: qjs::JSClassID = 0;

/// The hooks QuickJS calls for a lazy object. QuickJS keeps a pointer to
/// them, so they live as long as the program.
static mut EXOTIC: qjs::JSClassExoticMethods = qjs::JSClassExoticMethods {
    get_own_property: Some(get_own_property),
    get_own_property_names: Some(get_own_property_names),
    delete_property: Some(delete_property),
    define_own_property: Some(define_own_property),
    has_property: None,
    get_property: None,
    set_property: None,
};

/// What a lazy object holds: where its JSON starts in the input text, how
/// deep it is, and once built, its backing object (undefined before).
struct Lazy {
    start: usize,
    depth: usize,
    backing: qjs::JSValue,
}

/// Register the class. Called once, while the runtime is made; fails only
/// when out of memory.
pub(crate) fn register(cx: &Ctx<'_>) -> JsResult<()> {
    let cx = cx.as_raw().as_ptr();
    // SAFETY: the runtime is single-threaded and this runs once, before any
    // lazy object exists; QuickJS copies the definition but keeps the
    // pointer to `EXOTIC`, a static.
    unsafe {
        let rt = qjs::JS_GetRuntime(cx);
        let id = qjs::JS_NewClassID(rt, &raw mut CLASS_ID);
        let definition = qjs::JSClassDef {
            class_name: c"Object".as_ptr(),
            finalizer: Some(finalize),
            gc_mark: Some(mark),
            call: None,
            exotic: &raw mut EXOTIC,
        };
        if qjs::JS_NewClass(rt, id, &definition) != 0 {
            return Err(JsError::Allocation);
        }
        let object = qjs::JS_NewObject(cx);
        if qjs::JS_IsException(object) {
            return Err(JsError::Allocation);
        }
        let prototype = qjs::JS_GetPrototype(cx, object);
        qjs::JS_FreeValue(cx, object);
        // Takes the reference to Object.prototype.
        qjs::JS_SetClassProto(cx, id, prototype);
    }
    Ok(())
}

/// A lazy object for the JSON object at `start` in the input text, `depth`
/// levels down; an exception value when out of memory.
///
/// # Safety
/// `cx` is the live context; the class is registered.
pub(crate) unsafe fn object(cx: *mut qjs::JSContext, start: usize, depth: usize) -> qjs::JSValue {
    // SAFETY: see the function's contract; the object owns the block from
    // now on and `finalize` frees it.
    unsafe {
        let lazy = qjs::js_malloc(cx, std::mem::size_of::<Lazy>() as _).cast::<Lazy>();
        if lazy.is_null() {
            return qjs::JS_ThrowOutOfMemory(cx);
        }
        lazy.write(Lazy {
            start,
            depth,
            backing: qjs::JS_UNDEFINED,
        });
        let object = qjs::JS_NewObjectClass(cx, CLASS_ID as _);
        if qjs::JS_IsException(object) {
            qjs::js_free(cx, lazy.cast());
            return object;
        }
        qjs::JS_SetOpaque(object, lazy.cast());
        object
    }
}

/// The backing object of `object` (borrowed), built now if it was not yet;
/// `None` with an exception pending when it cannot be.
///
/// # Safety
/// `object` is a live lazy object of `cx`.
unsafe fn backing(cx: *mut qjs::JSContext, object: qjs::JSValue) -> Option<qjs::JSValue> {
    // SAFETY: see the function's contract. Building runs no JavaScript, so
    // nothing else touches `lazy` meanwhile.
    unsafe {
        let lazy = qjs::JS_GetOpaque(object, CLASS_ID).cast::<Lazy>();
        if lazy.is_null() {
            qjs::JS_ThrowTypeError(cx, c"not a lazy input object".as_ptr());
            return None;
        }
        if qjs::JS_IsUndefined((*lazy).backing) {
            match crate::json::build_input_object(cx, (*lazy).start, (*lazy).depth) {
                Ok(built) => (*lazy).backing = built,
                Err(message) => {
                    let message = std::ffi::CString::new(message).unwrap_or_default();
                    qjs::JS_ThrowTypeError(cx, c"%s".as_ptr(), message.as_ptr());
                    return None;
                }
            }
        }
        Some((*lazy).backing)
    }
}

unsafe extern "C" fn get_own_property(
    cx: *mut qjs::JSContext,
    descriptor: *mut qjs::JSPropertyDescriptor,
    object: qjs::JSValue,
    property: qjs::JSAtom,
) -> c_int {
    // SAFETY: QuickJS calls the hooks with a live lazy object.
    unsafe {
        match backing(cx, object) {
            Some(backing) => qjs::JS_GetOwnProperty(cx, descriptor, backing, property),
            None => -1,
        }
    }
}

unsafe extern "C" fn get_own_property_names(
    cx: *mut qjs::JSContext,
    table: *mut *mut qjs::JSPropertyEnum,
    length: *mut u32,
    object: qjs::JSValue,
) -> c_int {
    // SAFETY: as above; the table is allocated by QuickJS for the caller,
    // which frees it.
    unsafe {
        match backing(cx, object) {
            Some(backing) => {
                let flags = (qjs::JS_GPN_STRING_MASK | qjs::JS_GPN_SYMBOL_MASK) as c_int;
                qjs::JS_GetOwnPropertyNames(cx, table, length, backing, flags)
            }
            None => -1,
        }
    }
}

unsafe extern "C" fn delete_property(
    cx: *mut qjs::JSContext,
    object: qjs::JSValue,
    property: qjs::JSAtom,
) -> c_int {
    // SAFETY: as above.
    unsafe {
        match backing(cx, object) {
            Some(backing) => qjs::JS_DeleteProperty(cx, backing, property, 0),
            None => -1,
        }
    }
}

unsafe extern "C" fn define_own_property(
    cx: *mut qjs::JSContext,
    object: qjs::JSValue,
    property: qjs::JSAtom,
    value: qjs::JSValue,
    getter: qjs::JSValue,
    setter: qjs::JSValue,
    flags: c_int,
) -> c_int {
    // SAFETY: as above; the values are borrowed, as JS_DefineProperty takes
    // them.
    unsafe {
        let Some(backing) = backing(cx, object) else {
            return -1;
        };
        // `Object.preventExtensions` (and freeze, seal) set the flag on the
        // lazy object itself: carry it to the backing before a define, so
        // that the backing refuses a new property as the object must.
        if qjs::JS_IsExtensible(cx, object) == 0 && qjs::JS_PreventExtensions(cx, backing) < 0 {
            return -1;
        }
        qjs::JS_DefineProperty(cx, backing, property, value, getter, setter, flags)
    }
}

unsafe extern "C" fn mark(rt: *mut qjs::JSRuntime, object: qjs::JSValue, mark: qjs::JS_MarkFunc) {
    // SAFETY: QuickJS marks a live lazy object.
    unsafe {
        let lazy = qjs::JS_GetOpaque(object, CLASS_ID).cast::<Lazy>();
        if !lazy.is_null() {
            qjs::JS_MarkValue(rt, (*lazy).backing, mark);
        }
    }
}

unsafe extern "C" fn finalize(rt: *mut qjs::JSRuntime, object: qjs::JSValue) {
    // SAFETY: QuickJS finalizes a lazy object once; the box was made by
    // `object`.
    unsafe {
        let lazy = qjs::JS_GetOpaque(object, CLASS_ID).cast::<Lazy>();
        if !lazy.is_null() {
            qjs::JS_FreeValueRT(rt, (*lazy).backing);
            qjs::js_free_rt(rt, lazy.cast());
        }
    }
}
