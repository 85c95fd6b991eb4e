// Method forms of the first round's ops (x.exp(), x.sum(1)): each is the free function. The
// method forms of later ops sit beside the op they call.

#include <tapegrad/ops.hpp>

namespace tg {

Tensor Tensor::add(const Tensor& other) const { return *this + other; }
Tensor Tensor::sub(const Tensor& other) const { return *this - other; }
Tensor Tensor::mul(const Tensor& other) const { return *this * other; }
Tensor Tensor::div(const Tensor& other) const { return *this / other; }
Tensor Tensor::neg() const { return -*this; }
Tensor Tensor::matmul(const Tensor& other) const { return tg::matmul(*this, other); }
Tensor Tensor::exp() const { return tg::exp(*this); }
Tensor Tensor::log() const { return tg::log(*this); }
Tensor Tensor::sqrt() const { return tg::sqrt(*this); }
Tensor Tensor::abs() const { return tg::abs(*this); }
Tensor Tensor::relu() const { return tg::relu(*this); }
Tensor Tensor::sigmoid() const { return tg::sigmoid(*this); }
Tensor Tensor::tanh() const { return tg::tanh(*this); }
Tensor Tensor::square() const { return tg::square(*this); }
Tensor Tensor::pow(double p) const { return tg::pow(*this, p); }
Tensor Tensor::sum() const { return tg::sum(*this); }
Tensor Tensor::sum(int64_t dim, bool keepdim) const { return tg::sum(*this, dim, keepdim); }
Tensor Tensor::mean() const { return tg::mean(*this); }
Tensor Tensor::mean(int64_t dim, bool keepdim) const { return tg::mean(*this, dim, keepdim); }
Tensor Tensor::max() const { return tg::max(*this); }
Tensor Tensor::min() const { return tg::min(*this); }
Tensor Tensor::argmax(int64_t dim) const { return tg::argmax(*this, dim); }
Tensor Tensor::softmax(int64_t dim) const { return tg::softmax(*this, dim); }
Tensor Tensor::log_softmax(int64_t dim) const { return tg::log_softmax(*this, dim); }
Tensor Tensor::view(Shape shape) const { return reshape(std::move(shape)); }

}  // namespace tg
