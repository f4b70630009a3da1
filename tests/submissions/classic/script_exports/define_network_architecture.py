#!/usr/bin/env python
# coding: utf-8

# # Define the Convolutional Neural Network
# 
# The network is defined in `models.py`; here it is trained on the transformed training images and its
# weights are saved in `saved_models/`. The questions are at the end.

# In[1]:


import cv2
import matplotlib.pyplot as plt
import numpy as np
get_ipython().run_line_magic('matplotlib', 'inline')

# re-import models.py automatically when it changes
get_ipython().run_line_magic('load_ext', 'autoreload')
get_ipython().run_line_magic('autoreload', '2')


# In[2]:


import torch
import torch.nn as nn
import torch.nn.functional as F

from models import Net

net = Net()
print(net)


# ## The transformed dataset
# 
# Every training image is rescaled, randomly cropped to a square, turned into normalised grayscale and
# made a tensor: the transforms of `data_load.py`.

# In[3]:


from torch.utils.data import Dataset, DataLoader
from torchvision import transforms, utils

from data_load import FacialKeypointsDataset
from data_load import Rescale, RandomCrop, Normalize, ToTensor

# rescale, crop a random 224 x 224 window, grayscale + normalise, to a tensor
data_transform = transforms.Compose([Rescale(250),
                                     RandomCrop(224),
                                     Normalize(),
                                     ToTensor()])

assert(data_transform is not None), 'Define a data_transform'


# In[4]:


transformed_dataset = FacialKeypointsDataset(csv_file='data/training_frames_keypoints.csv',
                                             root_dir='data/training/',
                                             transform=data_transform)

print('Number of images: ', len(transformed_dataset))

# the sizes of a few samples
for i in range(4):
    sample = transformed_dataset[i]
    print(i, sample['image'].size(), sample['keypoints'].size())


# In[5]:


batch_size = 10

train_loader = DataLoader(transformed_dataset,
                          batch_size=batch_size,
                          shuffle=True,
                          num_workers=0)


# ## The test data
# 
# The test images show how the network does on faces it has not seen.

# In[6]:


test_dataset = FacialKeypointsDataset(csv_file='data/test_frames_keypoints.csv',
                                      root_dir='data/test/',
                                      transform=data_transform)

test_loader = DataLoader(test_dataset,
                         batch_size=batch_size,
                         shuffle=True,
                         num_workers=0)


# ## The network on a test batch
# 
# Before training the predictions are noise; run this again after training.

# In[7]:


def net_sample_output():
    # the first batch of test images
    for i, sample in enumerate(test_loader):

        images = sample['image']
        key_pts = sample['keypoints']

        images = images.type(torch.FloatTensor)

        # forward pass
        output_pts = net(images)

        # (batch_size, 68, 2), whatever shape the network returns
        output_pts = output_pts.view(output_pts.size()[0], 68, -1)

        if i == 0:
            return images, output_pts, key_pts


# In[8]:


test_images, test_outputs, gt_pts = net_sample_output()

print(test_images.data.size())
print(test_outputs.data.size())
print(gt_pts.size())


# In[9]:


def show_all_keypoints(image, predicted_key_pts, gt_pts=None):
    """A face with the predicted keypoints (magenta) and, when given, the true ones (green)."""
    plt.imshow(image, cmap='gray')
    plt.scatter(predicted_key_pts[:, 0], predicted_key_pts[:, 1], s=20, marker='.', c='m')
    if gt_pts is not None:
        plt.scatter(gt_pts[:, 0], gt_pts[:, 1], s=20, marker='.', c='g')


def visualize_output(test_images, test_outputs, gt_pts=None, batch_size=10):
    plt.figure(figsize=(20, 10))
    for i in range(min(batch_size, len(test_images))):
        ax = plt.subplot(1, batch_size, i + 1)

        image = test_images[i].data.numpy()
        image = np.transpose(image, (1, 2, 0))  # C x H x W -> H x W x C

        predicted_key_pts = test_outputs[i].data.numpy()
        # undo the keypoint normalisation of Normalize()
        predicted_key_pts = predicted_key_pts * 50.0 + 100

        ground_truth_pts = None
        if gt_pts is not None:
            ground_truth_pts = gt_pts[i].numpy()
            ground_truth_pts = ground_truth_pts * 50.0 + 100

        show_all_keypoints(np.squeeze(image), predicted_key_pts, ground_truth_pts)
        plt.axis('off')

    plt.show()


visualize_output(test_images, test_outputs, gt_pts)


# ## Training
# 
# The loss function and the optimizer, then the training loop over `train_loader`.

# In[10]:


import torch.optim as optim

# keypoints are numbers: a regression loss
criterion = nn.MSELoss()

optimizer = optim.Adam(net.parameters(), lr=0.001)


# In[11]:


def train_net(n_epochs):

    net.train()

    for epoch in range(n_epochs):

        running_loss = 0.0

        for batch_i, data in enumerate(train_loader):
            images = data['image']
            key_pts = data['keypoints']

            # (N, 68, 2) -> (N, 136) like the network's output
            key_pts = key_pts.view(key_pts.size(0), -1)

            # float tensors for the regression loss
            images = images.type(torch.FloatTensor)
            key_pts = key_pts.type(torch.FloatTensor)

            output_pts = net(images)
            loss = criterion(output_pts, key_pts)

            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

            running_loss += loss.item()
            if batch_i % 10 == 9:    # every 10 batches
                print('Epoch: {}, Batch: {}, Avg. Loss: {}'.format(epoch + 1, batch_i + 1, running_loss / 10))
                running_loss = 0.0

    print('Finished Training')


# In[12]:


# train the network
n_epochs = 50

train_net(n_epochs)


# ## The network on a test batch, after training

# In[13]:


test_images, test_outputs, gt_pts = net_sample_output()

print(test_images.data.size())
print(test_outputs.data.size())
print(gt_pts.size())


# In[14]:


visualize_output(test_images, test_outputs, gt_pts)


# Once the network is trained, save its parameters: notebook 3 loads them.

# In[15]:


model_dir = 'saved_models/'
model_name = 'keypoints_model_1.pt'

torch.save(net.state_dict(), model_dir + model_name)


# ### Question 1: Which loss function and which optimizer did you pick, and why?

# **Answer**: MSE loss, because the keypoints are continuous coordinates, and Adam with lr 0.001, which trained faster than plain SGD in a few test epochs.

# ### Question 2: How did you arrive at your network's architecture? What did you start from and what did you change?

# **Answer**: I started from one convolution and a linear layer, then added a second convolution and pooling to shrink the feature maps until the linear layer was small enough.

# ### Question 3: How did you choose the number of epochs and the batch size?

# **Answer**: batch size 10 fitted in memory; I trained until the loss stopped going down.

# ## Feature visualization
# 
# The first convolutional layer's filters, and what one of them does to an image.

# In[16]:


# the weights of the first convolutional layer
weights1 = net.conv1.weight.data

w = weights1.numpy()

filter_index = 0

print(w[filter_index][0])
print(w[filter_index][0].shape)

plt.imshow(w[filter_index][0], cmap='gray')
plt.show()


# In[17]:


# a test image, filtered with that filter
image = test_images[0].data.numpy().squeeze()

filtered = cv2.filter2D(image, -1, w[filter_index][0])

fig = plt.figure(figsize=(10, 5))
ax = fig.add_subplot(1, 2, 1)
ax.imshow(image, cmap='gray')
ax.set_title('test image')
ax = fig.add_subplot(1, 2, 2)
ax.imshow(filtered, cmap='gray')
ax.set_title('filtered with filter {}'.format(filter_index))
plt.show()


# ### Question 4: Pick one filter of the first layer. What kind of feature does it seem to respond to in the filtered image?

# **Answer**: filter 0 looks like a vertical edge detector: the filtered image is bright along the sides of the face and the nose.
